/*
 * Kernels on PLINK .bed bytes that never decode genotypes to numbers:
 *
 *   accumulate()      polygenic-score sums (alignome.genetics.score.score_bed),
 *   bitplanes()       LD bit planes of rows (alignome.genetics.ld.BedBitPlanes),
 *   pair_counts()     AND + popcount of an index variant's planes with candidates' planes
 *                     (alignome.genetics.ld.pair_haplotype_tables),
 *   group_counts(),   genotype QC (alignome.genetics.qc): per variant, the calls of each code in sample
 *   missing_counts()  groups; per sample, the missing calls,
 *
 * and what QC needs around them: hwe() (the Hardy-Weinberg exact test), text_columns() (.bim/.fam
 * fields) and text_rows() (the reports' text).
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
    {"bitplanes", ab_bitplanes, METH_VARARGS,
     "bitplanes(raw, m, width, kept, out, counts, size, offset): the bit planes P0, P1, C, P0|P1 of m .bed rows\n"
     "(width bytes each) over the kept samples (uint64 words) into variants offset … offset+m-1 of out, uint64\n"
     "(words, 4, size), and their |P0|, |P1|, |C| into counts, int64 (3, size)."},
    {"pair_counts", ab_pair_counts, METH_VARARGS,
     "pair_counts(index, planes, pairs, out): out[j, v] = Σ_w popcount(index[w, left_j] & planes[w, right_j, v])\n"
     "for index (words, 4) and planes (words, 4, k) uint64 (any strides, unit stride on k), pairs bytes\n"
     "(left_0, right_0, left_1, …) and out int64 (pairs, k)."},
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
                                    "Kernels on packed .bed bytes: score sums, LD bit planes and their popcounts, QC counts; the HWE exact test.",
                                    -1, methods};

PyMODINIT_FUNC PyInit__bedscore(void)
{
    ab_build_tables();
    return PyModule_Create(&module);
}
