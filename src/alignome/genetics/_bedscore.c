/*
 * Kernels on PLINK .bed bytes that never decode genotypes to numbers:
 *
 *   accumulate()      polygenic-score sums (alignome.genetics.score.score_bed),
 *   clump()           PLINK 1.9 --clump: pair counts of 2-bit calls, the EM r², the clumps
 *                     (alignome.genetics.clump),
 *   group_counts(),   genotype QC (alignome.genetics.qc_counts): per variant, the calls of each code in sample
 *   missing_counts()  groups; per sample, the missing calls,
 *
 * and what they need around them: hwe() (the Hardy-Weinberg exact test), text_columns() (.bim/.fam
 * fields as str), fields(), numbers() and match() (text columns as byte spans, alignome.io.fields)
 * and text_rows() (the reports' text).
 *
 * A .bed byte holds four calls, sample 4j+k in bits 2k..2k+1: 00 → 2 copies of A1, 01 → missing,
 * 10 → 1, 11 → 0.
 *
 * The Python side checks its inputs and falls back to NumPy when this extension is not built;
 * tests compare the two, and both with plink1.9.
 */
#include "_bedscore.h"

static PyMethodDef methods[] = {
    {"accumulate", ab_accumulate, METH_VARARGS,
     "accumulate(raw, m, width, weight, flip, founders, mean_imputation, total, dosage, missing): add m .bed rows'\n"
     "per-sample score sums (Σ w·dosage with imputed missing calls, Σ dosage, missing calls) to the float64\n"
     "buffers total, dosage, missing (4·width each). weight: float64 (m,); flip: uint8 (m,), 1 where the scored\n"
     "allele is A2; founders: uint8 (4·width,), 1 for the founders that give the imputation frequency."},
    {"clump", ab_clump, METH_VARARGS,
     "clump(bed, row_bytes, founders, chrom, pos, where, p, p1, p2, r2, load, radius) -> (index, index_p, bins,\n"
     "members, member_r2, lost, candidates): PLINK 1.9 --clump. bed: the .bed's bytes (rows of row_bytes);\n"
     "founders: one byte per sample (nonzero: founder); per .bim variant chrom (int64, equal within a\n"
     "chromosome) and pos (int64); per report row where (int64 .bim variant, -1 absent) and p (float64). Entries\n"
     "have p <= load, index variants p <= p1, windows |bp - index bp| <= radius. Returns, per clump in PLINK's\n"
     "order, its index variant, p, bins [NSIG, S05, S01, S001, S0001], SP2 members (.bim order) and their signed\n"
     "r²; the report rows with p <= p1 absent from the .bim, by p; the number of index variants."},
    {"group_counts", ab_group_counts, METH_VARARGS,
     "group_counts(raw, m, width, masks, out, size, offset): per .bed row v (width bytes each) and sample group\n"
     "g, the group's missing (01), heterozygous (10) and homozygous-A2 (11) calls into out[g, :, offset + v], out\n"
     "int64 (groups, 3, size). masks: uint64 (groups, ⌈width/8⌉), bit 2k of word w set for sample 32w+k of g."},
    {"missing_counts", ab_missing_counts, METH_VARARGS,
     "missing_counts(raw, m, width, masks, which, counts): add to counts, int64 (32·⌈width/8⌉,), each sample's\n"
     "missing calls over the m rows, counting row v only for the samples of mask which[v] (uint8 (m,); masks as\n"
     "in group_counts)."},
    {"hwe", ab_hwe, METH_VARARGS,
     "hwe(het, hom1, hom2, midp, out[, threshold]): Hardy-Weinberg exact-test p-values (mid-p when midp) of\n"
     "int64 genotype counts into out, float64 of their length (alignome.genetics.hwe's conventions); with a\n"
     "threshold, whether each p-value is below it into out, uint8 (most without computing the p-value)."},
    {"fields", ab_fields, METH_VARARGS,
     "fields(data, count, wanted) -> (bytes, rows, longest) or None: the [start, end) byte spans of the fields\n"
     "wanted (bytes of field numbers) of every non-blank line, int64 (len(wanted), capacity, 2) of which the first\n"
     "rows of each field are filled, and each field's longest; None where a line does not hold count fields or\n"
     "the bytes are not printable ASCII text."},
    {"numbers", ab_numbers, METH_VARARGS,
     "numbers(data, spans, decimal, out[, low, high]) -> int: the fields at spans (int64 (n, 2)) as float64 read by\n"
     "strtod from [+-]?(digits[.digits]|.digits)([eE][+-]?digits)? (decimal) or int64 from [+-]?digits into out;\n"
     "returns the first row that is not such a number (or a float64 outside [low, high]), -1 when all are."},
    {"match", ab_match, METH_VARARGS,
     "match(data_a, spans_a, data_b, spans_b, out) -> int: out[j] (int64) = the first row of column a with the\n"
     "bytes of row j of column b, -1 where none (spans int64 (rows, 2)); returns the first row of a that repeats\n"
     "an earlier one, -1 when none does."},
    {"text_columns", ab_text_columns, METH_VARARGS,
     "text_columns(data, count) -> list of count lists of str, or None: the whitespace-separated fields of a\n"
     "PLINK text file (blank lines skipped); None where a line does not hold count fields or the bytes are not\n"
     "printable ASCII text."},
    {"text_rows", ab_text_rows, METH_VARARGS,
     "text_rows(columns) -> bytes: rows of a text table, row r = Σ_columns prefix + cell, then \\n. columns:\n"
     "(prefix, kind, data, precision, nan_text) with kind 's' (list of str), 'c' (one str for every row), 'i'\n"
     "(int64 buffer) or 'g' (float64 buffer, written as format(x, '.{precision}g'), nan_text where not finite)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_bedscore",
                                    "Kernels on packed .bed bytes: score sums, clumping, QC counts; the HWE exact test; text columns.",
                                    -1, methods};

PyMODINIT_FUNC PyInit__bedscore(void)
{
    ab_build_tables();
    return PyModule_Create(&module);
}
