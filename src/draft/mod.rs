//! Document templates, prompt building within a token budget, factual sections from chart data, narrative sections from the model.
