"""The simulator's fingerprint follows every byte of the simulator's source."""

from __future__ import annotations

import shutil

from alignome.simulate.fingerprint import PACKAGE_DIR, simulator_fingerprint, source_sha256


def test_editing_any_simulator_file_changes_the_source_hash(tmp_path):
    copy = tmp_path / "simulate"
    shutil.copytree(PACKAGE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert source_sha256(copy) == source_sha256(PACKAGE_DIR)
    module = copy / "mri3d.py"
    module.write_text(module.read_text() + "\n# a changed internal parameter\n")
    edited = source_sha256(copy)
    assert edited != source_sha256(PACKAGE_DIR)
    (copy / "__pycache__").mkdir()
    (copy / "__pycache__" / "mri3d.cpython-311.pyc").write_bytes(b"bytecode")
    assert source_sha256(copy) == edited  # bytecode caches are not source


def test_the_fingerprint_names_alignome_version_and_source():
    import alignome

    fingerprint = simulator_fingerprint()
    assert fingerprint["alignome"] == alignome.__version__
    assert fingerprint["simulate_source_sha256"] == source_sha256(PACKAGE_DIR)
    assert fingerprint["numpy"]
