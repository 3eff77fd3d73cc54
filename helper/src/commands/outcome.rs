//! How a command that ran to the end came out (its exit code in `main`).

/// How a command that ran to the end came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything is fine: exit 0.
    Success,
    /// The command's check or gate failed (a stale or missing plan, a
    /// feature split, a failed build): exit 1.
    Failed,
}
