//! Request metrics in the Prometheus text format. A handful of counters and one histogram do not
//! justify a metrics framework; the labels are bounded (method, matched route, status), so a
//! scanner probing random paths cannot grow the series without limit.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds (seconds) of the latency histogram: logins are expected well under 100 ms.
const BUCKETS: [f64; 11] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

#[derive(Default)]
struct Series {
    count: u64,
    sum_seconds: f64,
    buckets: [u64; BUCKETS.len()],
}

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), Series>>,
}

impl Metrics {
    pub fn observe(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        let method = method_label(method);
        let mut map = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        let s = map
            .entry((method.to_owned(), route.to_owned(), status))
            .or_default();
        s.count += 1;
        s.sum_seconds += secs;
        for (i, le) in BUCKETS.iter().enumerate() {
            if secs <= *le {
                s.buckets[i] += 1;
            }
        }
    }

    /// Renders every series; `extra` lines (gauges computed at scrape time) are appended.
    pub fn render(&self, gauges: &[(&str, &str, f64)]) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP openpoort_build_info Version of the running openpoort."
        );
        let _ = writeln!(out, "# TYPE openpoort_build_info gauge");
        let _ = writeln!(
            out,
            "openpoort_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        );
        for (name, help, value) in gauges {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} gauge");
            let _ = writeln!(out, "{name} {value}");
        }
        let map = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        let _ = writeln!(
            out,
            "# HELP openpoort_http_requests_total HTTP requests answered."
        );
        let _ = writeln!(out, "# TYPE openpoort_http_requests_total counter");
        for ((method, route, status), s) in map.iter() {
            let _ = writeln!(
                out,
                "openpoort_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {}",
                escape(route),
                s.count
            );
        }
        let _ = writeln!(
            out,
            "# HELP openpoort_http_request_duration_seconds Time to answer HTTP requests."
        );
        let _ = writeln!(
            out,
            "# TYPE openpoort_http_request_duration_seconds histogram"
        );
        for ((method, route, status), s) in map.iter() {
            let labels = format!(
                "method=\"{method}\",route=\"{}\",status=\"{status}\"",
                escape(route)
            );
            for (le, n) in BUCKETS.iter().zip(s.buckets) {
                let _ = writeln!(
                    out,
                    "openpoort_http_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "openpoort_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                s.count
            );
            let _ = writeln!(
                out,
                "openpoort_http_request_duration_seconds_sum{{{labels}}} {}",
                s.sum_seconds
            );
            let _ = writeln!(
                out,
                "openpoort_http_request_duration_seconds_count{{{labels}}} {}",
                s.count
            );
        }
        out
    }
}

/// The method as a label: one of the standard methods, or `other`. HTTP allows any token as a
/// method, so taking it as it came let a client make a new series with every request (3,000
/// invented methods made `/metrics` 185 MB).
fn method_label(method: &str) -> &'static str {
    const KNOWN: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE",
    ];
    KNOWN
        .into_iter()
        .find(|known| *known == method)
        .unwrap_or("other")
}

/// Label values escape backslash, quote and newline (Prometheus text format 0.0.4).
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative_and_count_matches() {
        let m = Metrics::default();
        m.observe("GET", "/healthz", 200, Duration::from_millis(3));
        m.observe("GET", "/healthz", 200, Duration::from_millis(300));
        let text = m.render(&[]);
        assert!(text.contains(
            "openpoort_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 2"
        ));
        assert!(text.contains("le=\"0.005\"} 1"), "{text}");
        assert!(text.contains("le=\"0.5\"} 2"), "{text}");
        assert!(text.contains("le=\"+Inf\"} 2"), "{text}");
    }

    #[test]
    fn invented_methods_share_one_series() {
        let m = Metrics::default();
        for i in 0..3_000 {
            m.observe(&format!("X{i}"), "unmatched", 405, Duration::ZERO);
        }
        m.observe("GET", "unmatched", 404, Duration::ZERO);
        let text = m.render(&[]);
        let series = text
            .lines()
            .filter(|l| l.starts_with("openpoort_http_requests_total{"))
            .collect::<Vec<_>>();
        assert_eq!(
            series,
            [
                "openpoort_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"} 1",
                "openpoort_http_requests_total{method=\"other\",route=\"unmatched\",status=\"405\"} 3000",
            ],
        );
        assert!(!text.contains("X17"), "a client's method became a label");
    }

    #[test]
    fn label_values_are_escaped() {
        let m = Metrics::default();
        m.observe("GET", "a\"b\\c\nd", 404, Duration::ZERO);
        assert!(m.render(&[]).contains("route=\"a\\\"b\\\\c\\nd\""));
    }
}
