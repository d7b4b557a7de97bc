"""File formats below everything else: PLINK filesets (one reader), text columns, tables, NIfTI checks.

Nothing here knows statistics, cohorts or learning; of alignome it imports only :mod:`alignome.errors`
(and loads the optional C extension ``alignome.genetics._bedscore`` by name, :func:`alignome.io.fields.bed_kernel`).

* :mod:`~alignome.io.plink_files` — a fileset's paths and the ``.bed`` checks.
* :mod:`~alignome.io.plink_fileset` — the ``.fam``/``.bim`` reader (:func:`~alignome.io.plink_fileset.read_fileset`).
* :mod:`~alignome.io.bed_blocks` — the packed ``.bed`` rows, a block of variants at a time.
* :mod:`~alignome.io.chromosomes` — chromosome codes as PLINK's human set reads them.
* :mod:`~alignome.io.fields` — whitespace-separated text columns as byte spans.
* :mod:`~alignome.io.tables` — CSV/TSV/Parquet tables with errors naming file, column and row.
* :mod:`~alignome.io.nifti_check` — is a NIfTI file one usable 3D volume?
"""
