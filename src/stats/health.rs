//! Component health scores, 0–100, from error rate and p95 latency:
//!
//! ```text
//! error_part   = min(1, error_rate / error_rate_ceiling)
//! latency_part = min(1, max(0, (p95_ms - target_ms) / (ceiling_ms - target_ms)))
//! score        = 100 × (1 − error_weight × error_part − latency_weight × latency_part)
//! ```
//! A component without latency samples (or without a latency target) is scored on errors alone
//! (`score = 100 × (1 − error_part)`). Weights, ceilings and targets are configurable.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LatencyTarget {
    /// p95 at or below this costs nothing.
    pub target_ms: f64,
    /// p95 at or above this costs the whole latency weight.
    pub ceiling_ms: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HealthConfig {
    pub error_weight: f64,
    pub latency_weight: f64,
    /// Error rate at which the error part is at its worst.
    pub error_rate_ceiling: f64,
    /// Latency targets per component.
    pub latency: BTreeMap<String, LatencyTarget>,
}

impl Default for HealthConfig {
    fn default() -> Self {
        let target = |t, c| LatencyTarget { target_ms: t, ceiling_ms: c };
        HealthConfig {
            error_weight: 0.7,
            latency_weight: 0.3,
            error_rate_ceiling: 0.25,
            latency: BTreeMap::from([
                ("model_inference".to_string(), target(3000.0, 10_000.0)),
                ("web".to_string(), target(3000.0, 10_000.0)),
                ("video_processor".to_string(), target(2000.0, 10_000.0)),
            ]),
        }
    }
}

impl HealthConfig {
    /// Checks every number is in range (weights and the ceiling in 0–1, latency targets positive
    /// and below their ceilings); the message names the key.
    pub fn check(&self) -> Result<(), String> {
        for (key, value) in [
            ("error_weight", self.error_weight),
            ("latency_weight", self.latency_weight),
            ("error_rate_ceiling", self.error_rate_ceiling),
        ] {
            if !(0.0..=1.0).contains(&value) {
                return Err(format!("{key} = {value} must be between 0 and 1"));
            }
        }
        for (component, t) in &self.latency {
            if !(t.target_ms.is_finite() && t.ceiling_ms.is_finite() && t.target_ms > 0.0 && t.ceiling_ms > t.target_ms)
            {
                return Err(format!(
                    "latency.{component}: target_ms = {} and ceiling_ms = {} must be positive, target below ceiling",
                    t.target_ms, t.ceiling_ms
                ));
            }
        }
        Ok(())
    }

    /// The score of a component with this error rate and p95 latency.
    pub fn score(&self, component: &str, error_rate: f64, p95_ms: Option<f64>) -> f64 {
        let error_part =
            if self.error_rate_ceiling > 0.0 { (error_rate / self.error_rate_ceiling).clamp(0.0, 1.0) } else { 0.0 };
        let latency_part = match (self.latency.get(component), p95_ms) {
            (Some(t), Some(p95)) if t.ceiling_ms > t.target_ms => {
                Some(((p95 - t.target_ms) / (t.ceiling_ms - t.target_ms)).clamp(0.0, 1.0))
            }
            _ => None,
        };
        let score = match latency_part {
            Some(lp) => 100.0 * (1.0 - self.error_weight * error_part - self.latency_weight * lp),
            None => 100.0 * (1.0 - error_part),
        };
        // rounded to 1e-6 so that float noise does not show as 5e-15
        ((score * 1e6).round() / 1e6).clamp(0.0, 100.0)
    }

    /// The formula in words, for the help screen and the report.
    pub fn describe(&self) -> String {
        format!(
            "score = 100 × (1 − {:.2} × min(1, error_rate / {:.2}) − {:.2} × latency_part), latency_part = min(1, max(0, (p95 − target) / (ceiling − target))); without latency data: 100 × (1 − min(1, error_rate / {:.2}))",
            self.error_weight, self.error_rate_ceiling, self.latency_weight, self.error_rate_ceiling
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands() {
        let h = HealthConfig::default();
        assert_eq!(h.score("model_inference", 0.0, Some(1000.0)), 100.0);
        assert_eq!(h.score("model_inference", 0.25, Some(10_000.0)), 0.0);
        assert!((h.score("model_inference", 0.125, Some(3000.0)) - 65.0).abs() < 1e-9);
        assert!((h.score("scheduler", 0.125, None) - 50.0).abs() < 1e-9);
        assert_eq!(h.score("web", 2.0, None), 0.0, "clamped");
    }
}
