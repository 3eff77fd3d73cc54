//! Placeholder until the helper lands.
fn main() {}
