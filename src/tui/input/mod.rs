//! Input: the commands, the configurable keymap, the edit keys, and turning key events into
//! `Action`s.

pub mod command;
pub mod edit_keys;
pub mod keymap;
pub mod translate;
