mod cli;
mod version;
fn main() {}
