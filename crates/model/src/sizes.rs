//! Byte counts for people: the one size formatter of every message and report (`512 B`,
//! `8.7 MiB`, `64.0 TiB`). Reports keep exact byte counts in their fields; only the text shown to
//! people rounds them.

/// `bytes` in binary units with one decimal: `0 B`, `1023 B`, `1.0 KiB`, `8.8 MiB`, `64.0 TiB`,
/// up to EiB.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = UNITS[0];
    for next in &UNITS[1..] {
        if value < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = next;
    }
    format!("{value:.1} {unit}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_sizes() {
        for (bytes, text) in [
            (0, "0 B"),
            (1023, "1023 B"),
            (1024, "1.0 KiB"),
            (9_236_480, "8.8 MiB"),
            (3 << 30, "3.0 GiB"),
            (70_368_744_677_376, "64.0 TiB"),
            (u64::MAX, "16.0 EiB"),
        ] {
            assert_eq!(human_size(bytes), text, "{bytes}");
        }
    }
}
