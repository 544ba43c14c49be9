//! Quality rules for requirement text.
