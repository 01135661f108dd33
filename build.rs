//! Rebuilds the tests when scenarios change (rstest `#[files]` expands at compile time).
fn main() {
    println!("cargo::rerun-if-changed=scenarios");
}
