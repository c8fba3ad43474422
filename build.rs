//! Links the `kubectl-checkpoint` binary as a position-dependent executable on Linux with glibc.
//!
//! A PIE binary of this size carries about 24,000 relative relocations that the dynamic loader
//! applies at every start, copying some 120 pages of `.data.rel.ro` on write; that was a third of
//! the time of a short run such as `decode IMAGE`. Without PIE the addresses are fixed at link
//! time and the binary starts in about 1.7 ms instead of 2.9 ms (docs/performance.md). kubectl
//! itself ships as a non-PIE executable; the heap, stack and shared libraries stay randomised.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os == "linux" && env == "gnu" {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
