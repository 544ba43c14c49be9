//! Tests of the ReqIF module.
