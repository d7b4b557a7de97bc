"""Text columns as byte spans (alignome.io.fields): the C kernel and the fallback read, parse and match alike."""

from __future__ import annotations

import numpy as np
import pytest

from alignome.io import fields
from alignome.io.fields import Strings, parse_numbers, read_fields


@pytest.fixture
def both(monkeypatch):
    """Call f() with the kernel and without it; both answers."""
    kernel = fields.bed_kernel()
    if kernel is None:
        pytest.skip("the C kernel alignome.genetics._bedscore is not built")

    def run(f):
        monkeypatch.setattr(fields, "bed_kernel", lambda: kernel)
        a = f()
        monkeypatch.setattr(fields, "bed_kernel", lambda: None)
        return a, f()
    return run


def _rows(columns):
    return None if columns is None else [(c.tolist(), c.longest()) for c in columns]


@pytest.mark.parametrize("text, expected", [
    (b"1 rs1 0 10 A G\n1 rs22 0 20 C T\n", [(["rs1", "rs22"], 4), (["10", "20"], 2)]),
    (b"\n  1\trs1 0 10 A G \r\n\n1 rs2 0 20 C T", [(["rs1", "rs2"], 3), (["10", "20"], 2)]),  # blanks, CRLF, no \n
    (b"", [([], 0), ([], 0)]),
    (b"1 rs1 0 10 A G\n1 rs2 0 20 C\n", None),  # a row of another width
    (b"1 rs1 0 10 A G extra\n", None),
    ("1 rs\u00e9 0 10 A G\n".encode(), None),  # not ASCII
    (b"1 rs1 0 10 A\x00 G\n", None),  # a control byte
])
def test_read_fields(both, text, expected):
    ours, fallback = both(lambda: _rows(read_fields(text, 6, (1, 3))))
    assert ours == fallback == expected


def test_parse_numbers(both):
    good = ["0.759695", "1e-5", "1E-05", ".5", "5.", "+1", "-0", "7", "0.1000000000000000055511151231257827",
            "4.9e-324", "2.2250738585072014e-308", "1e308", "1e999", "123456789012345678901234567890e-20",
            "9007199254740993", "0.30000000000000004", "3e22", "3e23", "1.5e-23", "0." + "0" * 70 + "17"]
    rng = np.random.default_rng(0)
    good += [f"{x:.{d}g}" for x, d in zip(rng.random(300) * 10.0 ** rng.integers(-30, 30, 300),
                                          rng.integers(1, 18, 300))]
    column = Strings.from_list(good)
    (values, bad), (fallback, fallback_bad) = both(lambda: parse_numbers(column, decimal=True))
    assert bad == fallback_bad == -1
    assert list(values) == list(fallback) == [float(g) for g in good]  # correctly rounded, as strtod and float
    for text in ["1e", "e5", "0x10", "nan", "inf", "1_0", "1.2.3", "--1", ".", "+", "1e+", "12a"]:
        column = Strings.from_list(["0.5", text])
        assert both(lambda c=column: parse_numbers(c, decimal=True)[1]) == (1, 1), text
    column = Strings.from_list(["0.5", "1", "1.0000001", "0"])
    assert both(lambda: parse_numbers(column, decimal=True, low=5e-324, high=1.0)[1]) == (2, 2)
    ints = ["10", "-3", "+4", "9223372036854775807", "-9223372036854775808"]
    column = Strings.from_list(ints)
    (values, bad), (fallback, fallback_bad) = both(lambda: parse_numbers(column, decimal=False))
    assert bad == fallback_bad == -1 and list(values) == list(fallback) == [int(i) for i in ints]
    for text in ["9223372036854775808", "-9223372036854775809", "1.0", "1e3", "", "0x1"]:
        column = Strings.from_list(["1", text])
        assert both(lambda c=column: parse_numbers(c, decimal=False)[1]) == (1, 1), text


def test_index_finds_first_rows_and_repeats(both):
    rng = np.random.default_rng(1)
    pool = [f"rs{i}" + "x" * int(rng.integers(0, 20)) for i in range(300)]  # short and long ids
    here = [pool[i] for i in rng.integers(0, 300, 500)]  # repeats, and runs below
    here[100:110] = [here[100]] * 10
    keys = [pool[i] for i in rng.integers(0, 300, 400)] + ["absent", ""]
    a, b = Strings.from_list(here), Strings.from_list(keys)
    (where, repeat), (fallback, fallback_repeat) = both(lambda: a.index(b))
    first = {}
    for i, v in enumerate(here):
        first.setdefault(v, i)
    assert list(where) == list(fallback) == [first.get(k, -1) for k in keys]
    assert repeat == fallback_repeat == next(i for i, v in enumerate(here) if first[v] != i)
    distinct = Strings.from_list(pool)
    assert both(lambda: distinct.index(b)[1]) == (-1, -1)


def test_strings_from_list():
    column = Strings.from_list(["a", "", "r\u00e9sum\u00e9", "bb\nb"])
    assert column.tolist() == ["a", "", "r\u00e9sum\u00e9", "bb\nb"] and len(column) == 4
    assert column.take([2, 0]) == ["r\u00e9sum\u00e9", "a"] and column[3] == "bb\nb"
    assert column.longest() == len("r\u00e9sum\u00e9".encode()) and column.rows_from(2).tolist() == column.tolist()[2:]


def test_na_ids_are_the_ones_pandas_reads_as_missing():
    from pandas._libs.parsers import STR_NA_VALUES

    from alignome.genetics.clump import NA_IDS

    assert set(NA_IDS) == set(STR_NA_VALUES)


def test_wide_text(both):
    text = (" ".join(f"c{i}" for i in range(300)) + "\n" + " ".join(map(str, range(300))) + "\n").encode()
    assert both(lambda: _rows(read_fields(text, 300, (1, 299)))) == ([(["c1", "1"], 2), (["c299", "299"], 4)],) * 2
