//! ReqIF 1.2 reading and writing (owned by the ReqIF work; see the module docs once written).
