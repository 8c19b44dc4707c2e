//! `karte setup`: system packages, the IPADIC dictionary, the default model; idempotent.
