//! Times as the records write them: RFC 3339, UTC, milliseconds.

use k8s_openapi::jiff::Timestamp;

/// `at` in RFC 3339, UTC, with milliseconds.
pub(crate) fn rfc3339(at: Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339_utc() {
        let at = Timestamp::from_second(1_692_876_258).unwrap();
        assert_eq!(rfc3339(at), "2023-08-24T11:24:18.000Z");
    }
}
