"""Genetics: summary statistics, variant selection, encodings, GWAS and friends."""
