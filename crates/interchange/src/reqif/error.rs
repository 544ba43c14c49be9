//! The one error type of the ReqIF module: a message plus, when it came from a file, the
//! position of the element it is about.

use std::fmt;

pub(crate) use crate::position::Pos;

/// Why a ReqIF document could not be read or written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReqifError {
    pub line: Option<u64>,
    pub column: Option<u64>,
    pub message: String,
}

impl ReqifError {
    /// An error about something at `pos` in the input.
    pub(crate) fn at(pos: Pos, message: impl Into<String>) -> Self {
        Self {
            line: Some(pos.line),
            column: Some(pos.column),
            message: message.into(),
        }
    }

    /// An error without a position (writing, archives, documents built in memory).
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self {
            line: None,
            column: None,
            message: message.into(),
        }
    }

    pub(crate) fn at_opt(pos: Option<Pos>, message: impl Into<String>) -> Self {
        match pos {
            Some(pos) => Self::at(pos, message),
            None => Self::new(message),
        }
    }

    /// The same error, its message prefixed with where it happened (e.g. an archive entry).
    pub(crate) fn context(mut self, prefix: &str) -> Self {
        self.message = format!("{prefix}: {}", self.message);
        self
    }
}

impl fmt::Display for ReqifError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(line), Some(column)) => write!(f, "line {line}, column {column}: ")?,
            (Some(line), None) => write!(f, "line {line}: ")?,
            _ => {}
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for ReqifError {}
