//! Clinical NLP pipeline: normalize → segment (lindera) → lexicon → rules → context → structure.
