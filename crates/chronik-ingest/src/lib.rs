//! Produce path for Chronik Stream (work in progress).
