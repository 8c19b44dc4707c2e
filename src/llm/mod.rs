//! The llama.cpp engine: one worker thread owning model and context; requests in, token events out.

pub mod manifest;
