//! The terminal front end: `Action`, `update`, `view`, widgets, keymap, themes, event loop.
