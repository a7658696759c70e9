"""The corpus registry: one TOML file per named corpus (installed as ``ngram_collapse.corpora``)."""
