//! Word-level differences between two texts.
