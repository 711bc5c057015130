//! The simulated service: the incident's timeline, job arrivals, poison retries, background timers, and every
//! line a job writes to the five files.

use super::*;
use chrono::DateTime;

/// A phase of the incident, in minutes of a 60-minute run (scaled to the real length).
#[derive(Clone, Copy)]
struct Phase(i64, i64);
const OOM_STORM: Phase = Phase(20, 30);
const DECODE_SPIKE: Phase = Phase(35, 42);
const LATENCY_REGRESSION: Phase = Phase(45, 55);
const UNKNOWN_CODE_PHASE: Phase = Phase(25, 50);

/// Where the phases fall: they repeat every `period_ms` from `start_ms`.
pub(super) struct Timeline {
    start_ms: i64,
    period_ms: i64,
}

impl Timeline {
    /// The phase's first occurrence, in epoch milliseconds.
    fn span(&self, phase: Phase) -> [i64; 2] {
        [phase.0, phase.1].map(|minute| self.start_ms + self.period_ms * minute / 60)
    }
    pub(super) fn phases(&self) -> Phases {
        Phases {
            oom_storm: self.span(OOM_STORM),
            decode_spike: self.span(DECODE_SPIKE),
            latency_regression: self.span(LATENCY_REGRESSION),
            unknown_code: self.span(UNKNOWN_CODE_PHASE),
        }
    }
    fn contains(&self, phase: Phase, at_ms: i64) -> bool {
        let [from, to] = self.span(phase);
        (from..to).contains(&(self.start_ms + (at_ms - self.start_ms).rem_euclid(self.period_ms)))
    }
    fn in_storm(&self, at_ms: i64) -> bool {
        self.contains(OOM_STORM, at_ms)
    }
}

/// One finished line (or multi-line block), sorted by the time its stamp shows.
pub(super) struct Line {
    pub(super) shown_us: i64,
    pub(super) file: usize,
    pub(super) text: String,
}

impl Line {
    /// A line stamped to the millisecond.
    fn millis(file: usize, at_ms: i64, text: String) -> Line {
        Line { shown_us: at_ms * 1000, file, text }
    }
    /// A line stamped to the second: it sorts as its stamp reads.
    fn seconds(file: usize, at_ms: i64, text: String) -> Line {
        Line { shown_us: whole_second_us(at_ms), file, text }
    }
}

fn whole_second_us(at_ms: i64) -> i64 {
    at_ms.div_euclid(1000).saturating_mul(1_000_000)
}

pub(super) struct PoisonVideo {
    pub(super) id: String,
    duration_s: u32,
}

/// Background sources that tick on their own: indexes into `Simulator::timers`.
const WORKER_STATUS: usize = 0;
const GPU_DEBUG: usize = 1;
const HEALTH_PROBE: usize = 2;
const POD_LIFECYCLE: usize = 3;
// ... and 4, the scheduler's docker json-file lines.

/// A small discrete-event simulation: job arrivals, poison retries and background timers.
pub(super) struct Simulator {
    rng: Rng,
    pub(super) timeline: Timeline,
    /// Lines at or after this time are not written (the end of `write_logs`).
    horizon_ms: Option<i64>,
    mean_gap_ms: Option<f64>,
    next_arrival_ms: f64,
    next_cycle_ms: i64,
    pub(super) poison: Vec<PoisonVideo>,
    /// Poison attempts of the current cycle, latest first so that `pop` gives the next one.
    poison_attempts: Vec<(i64, usize)>,
    timers: [i64; 5],
    pods: Vec<String>,
    pending: Vec<Line>,
    pub(super) jobs: u64,
}

impl Simulator {
    pub(super) fn new(opts: &SimulateOptions, start_ms: i64, horizon_ms: Option<i64>) -> Self {
        let mut rng = Rng(opts.seed);
        let mut poison_rng = Rng(opts.seed ^ 0x5EED_F01E_0BAD_F00D);
        let poison = (0..POISON_COUNT)
            .map(|_| PoisonVideo { id: video_id(&mut poison_rng), duration_s: poison_rng.between(95, 180) as u32 })
            .collect();
        let mean_gap_ms = (opts.rate.is_finite() && opts.rate > 0.0).then(|| 1000.0 / opts.rate);
        let first_gap_ms = mean_gap_ms.map_or(0.0, |gap| rng.exponential(gap));
        Simulator {
            timers: [0, 500, 200, 5_000, 3_000].map(|delay| start_ms + rng.between(0, delay)),
            pods: (0..6).map(|_| pod_name(&mut rng)).collect(),
            rng,
            timeline: Timeline { start_ms, period_ms: (i64::from(opts.minutes) * MINUTE_MS).max(1) },
            horizon_ms,
            mean_gap_ms,
            next_arrival_ms: start_ms as f64 + first_gap_ms,
            next_cycle_ms: start_ms,
            poison,
            poison_attempts: Vec::new(),
            pending: Vec::new(),
            jobs: 0,
        }
    }

    /// Runs every event due before `until_ms`; every line of an event is at or after it.
    pub(super) fn advance(&mut self, until_ms: i64) {
        loop {
            let arrival_ms = self.mean_gap_ms.map_or(i64::MAX, |_| self.next_arrival_ms.floor() as i64);
            let poison_ms = self.poison_attempts.last().map_or(i64::MAX, |next| next.0);
            let timers = self.timers.iter().copied().enumerate();
            let (timer, timer_ms) = timers.min_by_key(|&(_, at_ms)| at_ms).unwrap_or((0, i64::MAX));
            let due_ms = arrival_ms.min(poison_ms).min(timer_ms).min(self.next_cycle_ms);
            if due_ms >= until_ms {
                return;
            }
            if due_ms == self.next_cycle_ms {
                self.schedule_poison(due_ms);
            } else if due_ms == poison_ms {
                if let Some((at_ms, index)) = self.poison_attempts.pop() {
                    self.start_job(at_ms, Some(index));
                }
            } else if due_ms == arrival_ms {
                self.next_arrival_ms += self.rng.exponential(self.mean_gap_ms.unwrap_or(1.0));
                self.start_job(arrival_ms, None);
            } else {
                self.timers[timer] = timer_ms + self.run_timer(timer, timer_ms);
            }
        }
    }

    /// Plans one cycle's poison retries: 6–12 failures each, every ~20–40 s of a 10-minute storm (the intervals scale
    /// with the storm's length).
    fn schedule_poison(&mut self, cycle_start_ms: i64) {
        self.next_cycle_ms = cycle_start_ms + self.timeline.period_ms;
        let [from_ms, to_ms] = self.timeline.span(OOM_STORM);
        let storm_ms = (to_ms - from_ms) as f64;
        let storm_start = (cycle_start_ms + from_ms - self.timeline.start_ms) as f64;
        for index in 0..self.poison.len() {
            let mut at_ms = storm_start + self.rng.uniform(0.0, storm_ms * 0.1);
            for _ in 0..self.rng.between(6, 12) {
                self.poison_attempts.push((at_ms as i64, index));
                at_ms += self.rng.uniform(20_000.0, 40_000.0) * storm_ms / 600_000.0;
            }
        }
        self.poison_attempts.sort_by_key(|&attempt| std::cmp::Reverse(attempt));
    }

    fn start_job(&mut self, start_ms: i64, poison_index: Option<usize>) {
        let poison = poison_index.and_then(|index| self.poison.get(index));
        let lines = generate_job(&mut self.rng, &self.timeline, &self.pods, start_ms, poison);
        let last_us = lines.iter().map(|line| line.shown_us).max().unwrap_or(0);
        if self.before_horizon(last_us) {
            self.pending.extend(lines);
            self.jobs += 1;
        }
    }

    fn before_horizon(&self, shown_us: i64) -> bool {
        self.horizon_ms.is_none_or(|horizon| shown_us < horizon * 1000)
    }

    fn emit(&mut self, line: Line) {
        if self.before_horizon(line.shown_us) {
            self.pending.push(line);
        }
    }

    /// Writes, in order, the pending lines that no later event can precede: those shown before the whole second of
    /// `until_ms` (a later event's lines show at least that second).
    pub(super) fn write_settled(&mut self, until_ms: i64, outputs: &mut Outputs) -> io::Result<()> {
        self.pending.sort_by_key(|line| line.shown_us);
        let settled = self.pending.partition_point(|line| line.shown_us < whole_second_us(until_ms));
        self.pending.drain(..settled).try_for_each(|line| outputs.write(&line))
    }

    /// Emits one background line (or a few) and returns the milliseconds to its next tick.
    fn run_timer(&mut self, timer: usize, at_ms: i64) -> i64 {
        let storm = self.timeline.in_storm(at_ms);
        let busy = storm || self.timeline.contains(LATENCY_REGRESSION, at_ms);
        let rng = &mut self.rng;
        let worker = format!("worker=gpu-{}", rng.between(0, 7));
        let (line, interval_ms) = match timer {
            WORKER_STATUS if storm && rng.chance(0.15) => {
                let memory = rng.uniform(79.0, 79.9);
                let text = format!("[WARN] {worker} gpu_mem={memory:.1}GiB reason=\"memory pressure, batch size 1\"");
                (inference_line(rng, at_ms, &text), rng.between(600, 1400))
            }
            WORKER_STATUS => {
                let depth = if busy { rng.between(12, 40) } else { rng.between(0, 8) };
                let text = format!("[INFO] {worker} queue_depth={depth} batch_size={}", rng.pick(&[1, 2, 4, 4, 8]));
                (inference_line(rng, at_ms, &text), rng.between(600, 1400))
            }
            GPU_DEBUG => {
                let used = if storm { rng.uniform(70.0, 79.5) } else { rng.uniform(22.0, 60.0) };
                let reserved = (used + rng.uniform(0.5, 4.0)).min(80.0);
                let text =
                    format!("[DEBUG] {worker} cuda_mem_allocated={used:.1}GiB cuda_mem_reserved={reserved:.1}GiB");
                (inference_line(rng, at_ms, &text), rng.between(3000, 5000))
            }
            HEALTH_PROBE => {
                let (probe, stamp, took) = (rng.between(1, 3), nginx_stamp(at_ms), rng.between(1, 3));
                let text = format!(
                    "10.0.0.{probe} - - [{stamp}] \"GET /healthz HTTP/1.1\" 200 2 \"-\" \"kube-probe/1.29\" 0.00{took}"
                );
                (Line::seconds(NGINX_FILE, at_ms, text), rng.between(2000, 3000))
            }
            POD_LIFECYCLE => {
                self.start_pod(at_ms);
                return if storm { self.rng.between(20_000, 40_000) } else { self.rng.between(60_000, 150_000) };
            }
            _scheduler => (scheduler_line(rng, at_ms, storm), rng.between(10_000, 20_000)),
        };
        self.emit(line);
        interval_ms
    }

    /// A new inference pod replaces an old one: Scheduled, Pulled, Started.
    fn start_pod(&mut self, at_ms: i64) {
        let pod = pod_name(&mut self.rng);
        let slot = self.rng.between(0, self.pods.len() as i64 - 1) as usize;
        if let Some(old) = self.pods.get_mut(slot) {
            old.clone_from(&pod);
        }
        let node = self.rng.between(1, 4);
        let pulled_ms = at_ms + self.rng.between(1500, 6000);
        let started_ms = pulled_ms + self.rng.between(300, 1500);
        let image = "registry.local/foley/foley-infer:1.4.2";
        let events = [
            (at_ms, "Scheduled", format!("Successfully assigned foley/{pod} to gpu-node-{node}")),
            (pulled_ms, "Pulled", format!("Container image \"{image}\" already present on machine")),
            (started_ms, "Started", "Started container foley-infer".to_string()),
        ];
        for (time_ms, reason, message) in events {
            self.emit(k8s_event("Normal", reason, &message, &pod, time_ms));
        }
    }
}

/// What happened to one job.
#[derive(Clone, Copy, PartialEq)]
enum Outcome {
    Success,
    OutOfMemory,
    ModelFault(&'static str),
    Timeout,
    EmptyDescription,
    DecodeError,
    VocoderNan(i64),
}

// Frames of the web layer's tracebacks: the Flask view, then where the error was raised.
const APP_RUN: &str = "File \"/srv/foley/app.py\", line 88, in generate\n    audio = pipeline.run(video, prompt)";
const APP_VALIDATE: &str =
    "File \"/srv/foley/app.py\", line 81, in generate\n    prompt = require_description(request.form)";
const APP_LOAD: &str = "File \"/srv/foley/app.py\", line 84, in generate\n    video = preprocess.load(upload_path)";
const RAISE_SAMPLE: &str =
    "File \"/srv/foley/pipeline.py\", line 142, in run\n    latents = self.dit.sample(visual, text, steps=self.steps)";
const RAISE_WAIT: &str =
    "File \"/srv/foley/pipeline.py\", line 131, in run\n    return future.result(timeout=self.deadline_s)";
const RAISE_VOCODER: &str = "File \"/srv/foley/pipeline.py\", line 171, in run\n    \
    raise FloatingPointError(f\"vocoder produced NaN at frame {frame}\")";
const RAISE_VALIDATE: &str = "File \"/srv/foley/validation.py\", line 23, in require_description\n    \
    raise ValueError(\"audio description is empty\")";
const RAISE_LOAD: &str =
    "File \"/srv/foley/preprocess.py\", line 61, in load\n    raise RuntimeError(f\"ffmpeg failed: {stderr_tail}\")";

impl Outcome {
    fn code(self) -> Option<&'static str> {
        match self {
            Outcome::Success => None,
            Outcome::OutOfMemory | Outcome::ModelFault(_) => Some("MODEL_INFER_FAIL"),
            Outcome::Timeout => Some("MODEL_TIMEOUT"),
            Outcome::EmptyDescription => Some("AUDIO_DESC_EMPTY"),
            Outcome::DecodeError => Some("VIDEO_DECODE_ERR"),
            Outcome::VocoderNan(_) => Some(UNKNOWN_CODE),
        }
    }
    fn reason(self) -> String {
        match self {
            Outcome::Success => String::new(),
            Outcome::OutOfMemory => "CUDA out of memory".to_string(),
            Outcome::ModelFault(reason) => reason.to_string(),
            Outcome::Timeout => "inference exceeded 30s deadline".to_string(),
            Outcome::EmptyDescription => "audio description is empty".to_string(),
            Outcome::DecodeError => "Invalid data found when processing input".to_string(),
            Outcome::VocoderNan(frame) => format!("vocoder produced NaN at frame {frame}"),
        }
    }
    fn status(self) -> u16 {
        match self {
            Outcome::Success => 200,
            Outcome::EmptyDescription | Outcome::DecodeError => 422,
            _ => 500,
        }
    }
    /// Whether the model ran, so that the outcome line has inference time and GPU memory.
    fn ran_model(self) -> bool {
        !matches!(self, Outcome::EmptyDescription | Outcome::DecodeError)
    }
    /// The traceback's last three parts: the Flask view's frame, the raising frame, and the exception.
    fn traceback(self, duration_s: u32) -> [String; 3] {
        let [caller, raiser, kind] = match self {
            Outcome::EmptyDescription => [APP_VALIDATE, RAISE_VALIDATE, "ValueError"],
            Outcome::DecodeError => [APP_LOAD, RAISE_LOAD, "RuntimeError: ffmpeg failed"],
            Outcome::Timeout => [APP_RUN, RAISE_WAIT, "TimeoutError"],
            Outcome::VocoderNan(_) => [APP_RUN, RAISE_VOCODER, "FloatingPointError"],
            Outcome::OutOfMemory => [APP_RUN, RAISE_SAMPLE, "torch.cuda.OutOfMemoryError"],
            _ => [APP_RUN, RAISE_SAMPLE, "RuntimeError"],
        };
        let message = match self {
            Outcome::OutOfMemory => {
                format!("CUDA out of memory. Tried to allocate {:.2} GiB", 0.5 + f64::from(duration_s) / 60.0)
            }
            _ => self.reason(),
        };
        [caller.to_string(), raiser.to_string(), format!("{kind}: {message}")]
    }
}

/// One request for one video, and the lines made for it so far.
struct JobWriter<'a> {
    rng: &'a mut Rng,
    start_ms: i64,
    video: String,
    duration_s: u32,
    poison: bool,
    lines: Vec<Line>,
}

/// Makes every line of one job started at `start_ms`, for all five files: the ffmpeg probe, flask "accepted", the
/// inference outcome, the flask result, the nginx access line and any Kubernetes events. Model failures follow the
/// phase at the outcome's time, so that they stay inside their phase.
fn generate_job(
    rng: &mut Rng,
    timeline: &Timeline,
    pods: &[String],
    start_ms: i64,
    poison: Option<&PoisonVideo>,
) -> Vec<Line> {
    let (video, duration_s) = match poison {
        Some(video) => (video.id.clone(), video.duration_s),
        None => {
            let long = rng.chance(if timeline.in_storm(start_ms) { 0.4 } else { 0.1 });
            let duration_s = if long { rng.between(90, 180) } else { rng.between(4, 60) };
            (video_id(rng), duration_s as u32)
        }
    };
    let mut job = JobWriter { rng, start_ms, video, duration_s, poison: poison.is_some(), lines: Vec::new() };
    let decode_share = if timeline.contains(DECODE_SPIKE, start_ms) { 0.25 } else { 0.003 };
    let hevc_10bit = !job.poison && job.rng.chance(decode_share);
    let accepted_ms = job.ffmpeg(hevc_10bit) + job.rng.between(3, 15);
    let text =
        format!("[{}] INFO in app: POST /api/v1/generate video_id={} accepted", flask_stamp(accepted_ms), job.video);
    job.lines.push(Line::millis(FLASK_FILE, accepted_ms, text));
    let (outcome, outcome_ms, inference_s) = job.decide_outcome(timeline, hevc_10bit, accepted_ms);
    if outcome == Outcome::Success && job.rng.chance(0.015) {
        let tokens = job.rng.between(78, 900);
        let text =
            format!("[WARN] video_id={} prompt_tokens={tokens} reason=\"prompt truncated to 77 tokens\"", job.video);
        let line = inference_line(job.rng, accepted_ms + 1, &text);
        job.lines.push(line);
    }
    let storm = timeline.in_storm(outcome_ms);
    job.outcome_line(outcome, outcome_ms, inference_s, storm);
    let flask_ms = outcome_ms + job.rng.between(1, 4);
    job.flask_result(outcome, flask_ms);
    let nginx_ms = outcome_ms + job.rng.between(5, 9);
    job.access_line(outcome, storm, nginx_ms);
    if outcome == Outcome::OutOfMemory && storm && job.rng.chance(0.12) {
        job.oom_events(timeline, pods, outcome_ms);
    }
    job.lines
}

impl JobWriter<'_> {
    /// Returns the outcome, the time of its line and the inference time in seconds.
    fn decide_outcome(&mut self, timeline: &Timeline, hevc_10bit: bool, accepted_ms: i64) -> (Outcome, i64, f64) {
        let rng = &mut *self.rng;
        if hevc_10bit {
            return (Outcome::DecodeError, accepted_ms + rng.between(4, 20), 0.0);
        }
        if !self.poison && rng.chance(0.005) {
            return (Outcome::EmptyDescription, accepted_ms + rng.between(1, 6), 0.0);
        }
        let median_s = if timeline.contains(LATENCY_REGRESSION, accepted_ms) { 4.0 } else { 1.45 };
        let length_factor = 0.85 + f64::from(self.duration_s) / 200.0;
        let mut inference_s = (rng.lognormal(median_s, 0.35) * length_factor).max(0.2);
        if self.poison {
            inference_s = inference_s.min(3.0);
        }
        let queued_ms = accepted_ms + rng.between(20, 250);
        let outcome_ms = queued_ms + (inference_s * 1000.0).round() as i64;
        let long = self.duration_s >= LONG_VIDEO_S;
        let outcome = if self.poison || (timeline.in_storm(outcome_ms) && long && rng.chance(0.7)) {
            Outcome::OutOfMemory
        } else if timeline.contains(UNKNOWN_CODE_PHASE, outcome_ms) && rng.chance(0.01) {
            Outcome::VocoderNan(rng.between(200, 4000))
        } else if rng.chance(0.0012) {
            Outcome::ModelFault(rng.pick(&MODEL_FAULTS))
        } else if rng.chance(0.0005) {
            let deadline_s = 30.0 + rng.uniform(0.0, 0.3);
            return (Outcome::Timeout, queued_ms + (deadline_s * 1000.0) as i64, deadline_s);
        } else {
            Outcome::Success
        };
        (outcome, outcome_ms, inference_s)
    }

    /// The pre-processing wrapper's ffmpeg stderr; returns the time of its last line.
    fn ffmpeg(&mut self, hevc_10bit: bool) -> i64 {
        let mut at_ms = self.start_ms;
        self.ffmpeg_line(at_ms, format!("Input #0, mov,mp4,m4a,3gp,3g2,mj2, from '/data/in/{}.mp4':", self.video));
        let address = format!("0x55{}0", self.rng.hex(9));
        let resolution = self.rng.pick(&["1920x1080", "1280x720", "3840x2160", "1080x1920"]);
        if hevc_10bit {
            at_ms += self.rng.between(1, 4);
            self.ffmpeg_line(
                at_ms,
                format!("[hevc @ {address}] Stream #0:0: Video: hevc (Main 10), yuv420p10le, {resolution}"),
            );
            for _ in 0..self.rng.between(1, 3) {
                at_ms += self.rng.between(2, 15);
                let error = "Error while decoding stream #0:0: Invalid data found when processing input";
                self.ffmpeg_line(at_ms, format!("[hevc @ {address}] {error}"));
            }
        } else if self.rng.chance(0.6) {
            at_ms += self.rng.between(1, 4);
            self.ffmpeg_line(
                at_ms,
                format!("[h264 @ {address}] Stream #0:0: Video: h264 (High), yuv420p, {resolution}"),
            );
        }
        at_ms
    }

    fn ffmpeg_line(&mut self, at_ms: i64, text: String) {
        let text = format!("{} video_id={} {text}", millis_stamp(at_ms), self.video);
        self.lines.push(Line::millis(FFMPEG_FILE, at_ms, text));
    }

    /// The job's one outcome line in `inference.log`, with a little variation in key order.
    fn outcome_line(&mut self, outcome: Outcome, at_ms: i64, inference_s: f64, storm: bool) {
        let rng = &mut *self.rng;
        let mut fields = vec![format!("video_id={}", self.video)];
        if outcome.ran_model() {
            let decimals = if rng.chance(0.2) { 2 } else { 1 };
            fields.push(format!("inference_time={inference_s:.decimals$}s"));
        }
        fields.push(match outcome.code() {
            None => "audio_gen_success=True".to_string(),
            Some(code) => format!("error_code={code} reason=\"{}\"", outcome.reason()),
        });
        fields.push(format!("duration={}s", self.duration_s));
        if outcome.ran_model() {
            let memory = match outcome {
                Outcome::OutOfMemory => rng.uniform(79.0, 79.9),
                _ if storm && self.duration_s >= LONG_VIDEO_S => rng.uniform(74.0, 79.0),
                _ => (26.0 + f64::from(self.duration_s) * 0.22 + rng.uniform(-3.0, 3.0)).min(78.0),
            };
            fields.push(format!("gpu_mem={memory:.1}GiB"));
        }
        if outcome == Outcome::Success {
            fields.push(format!("gpu_util={}%", rng.between(60, 99)));
        }
        let request_id = format!("request_id=req_{}", rng.hex(8));
        let request_position = if rng.chance(0.3) { 1 } else { fields.len() };
        fields.insert(request_position, request_id);
        if rng.chance(0.2) {
            fields.swap(1, 2);
        }
        let level = if outcome == Outcome::Success { "INFO" } else { "ERROR" };
        let line = inference_line(rng, at_ms, &format!("[{level}] {}", fields.join(" ")));
        self.lines.push(line);
    }

    /// The web layer's result: a success line, a warning, or an exception with its traceback.
    fn flask_result(&mut self, outcome: Outcome, at_ms: i64) {
        let (stamp, video) = (flask_stamp(at_ms), &self.video);
        let traceback_share = match outcome {
            Outcome::EmptyDescription => 1.0,
            Outcome::DecodeError => 0.2,
            _ => 0.3,
        };
        let text = match outcome.code() {
            None => {
                let elapsed_s = (at_ms - self.start_ms) as f64 / 1000.0;
                format!(
                    "[{stamp}] INFO in app: POST /api/v1/generate video_id={video} status=200 elapsed={elapsed_s:.3}s"
                )
            }
            Some(_) if self.rng.chance(traceback_share) => {
                let [caller, raiser, exception] = outcome.traceback(self.duration_s);
                format!(
                    "[{stamp}] ERROR in app: Exception on /api/v1/generate [POST]\nTraceback (most recent call last):\n  \
                     {caller}\n  {raiser}\n{exception} (video_id={video})"
                )
            }
            Some(code) => format!(
                "[{stamp}] WARNING in app: POST /api/v1/generate video_id={video} failed error_code={code} status={}",
                outcome.status()
            ),
        };
        self.lines.push(Line::millis(FLASK_FILE, at_ms, text));
    }

    /// The nginx access line, written when it answers; 502 or 504 for some OOM failures in the storm.
    fn access_line(&mut self, outcome: Outcome, storm: bool, mut at_ms: i64) {
        let rng = &mut *self.rng;
        let mut status = outcome.status();
        let roll = rng.unit();
        if outcome == Outcome::OutOfMemory && storm && roll < 0.05 {
            status = 504;
            at_ms = at_ms.max(self.start_ms + 30_000 + rng.between(0, 5));
        } else if outcome == Outcome::OutOfMemory && storm && roll < 0.2 {
            status = 502;
        }
        let bytes = match status {
            200 => rng.between(280, 420),
            422 => rng.between(140, 160),
            500 => rng.between(180, 195),
            502 => 157,
            _ => 167,
        };
        let client = format!("10.0.{}.{}", rng.between(1, 4), rng.between(2, 254));
        let agent = rng.pick(&["foley-client/1.4", "foley-client/1.3", "python-requests/2.32.3"]);
        let (stamp, video, request_s) = (nginx_stamp(at_ms), &self.video, (at_ms - self.start_ms) as f64 / 1000.0);
        let text = format!(
            "{client} - - [{stamp}] \"POST /api/v1/generate?video_id={video} HTTP/1.1\" {status} {bytes} \"-\" \
             \"{agent}\" {request_s:.3}"
        );
        self.lines.push(Line::seconds(NGINX_FILE, at_ms, text));
    }

    /// The container killed by an OOM failure: OOMKilled, then maybe BackOff, both only inside the storm.
    fn oom_events(&mut self, timeline: &Timeline, pods: &[String], outcome_ms: i64) {
        let Some(pod) = pods.get(self.rng.between(0, pods.len() as i64 - 1) as usize) else {
            return;
        };
        let killed_ms = outcome_ms + self.rng.between(20, 300);
        let backoff_ms = killed_ms + self.rng.between(8_000, 20_000);
        if timeline.in_storm(killed_ms) {
            let message = format!("Container foley-infer in pod {pod} was OOMKilled (exit code 137)");
            self.lines.push(k8s_event("Warning", "OOMKilled", &message, pod, killed_ms));
        }
        if self.rng.chance(0.6) && timeline.in_storm(backoff_ms) {
            let message = format!("Back-off restarting failed container foley-infer in pod {pod}");
            self.lines.push(k8s_event("Warning", "BackOff", &message, pod, backoff_ms));
        }
    }
}

fn video_id(rng: &mut Rng) -> String {
    format!("vid_{}", rng.hex(6))
}

/// A Kubernetes-style pod name with a random five-character suffix.
fn pod_name(rng: &mut Rng) -> String {
    let alphabet: Vec<char> = "bcdfghjklmnpqrstvwxz2456789".chars().collect();
    let suffix: String = (0..5).map(|_| rng.pick(&alphabet)).collect();
    format!("foley-infer-7d9f8-{suffix}")
}

/// A scheduler record (python-json-logger JSON) inside a docker json-file line.
fn scheduler_line(rng: &mut Rng, at_ms: i64, storm: bool) -> Line {
    let (level, message) = if storm && rng.chance(0.3) {
        ("INFO", format!("scaled foley-infer to {} replicas", rng.between(6, 10)))
    } else if storm && rng.chance(0.3) {
        ("WARNING", format!("worker gpu-{} restarted after OOMKilled (exit code 137)", rng.between(0, 7)))
    } else {
        let pending = if storm { rng.between(20, 60) } else { rng.between(0, 12) };
        let utilization = if storm { rng.between(95, 100) } else { rng.between(55, 92) };
        let memory = if storm { rng.uniform(78.5, 79.9) } else { rng.uniform(30.0, 62.0) };
        let running = rng.between(4, 8);
        (
            "INFO",
            format!("queue stats pending={pending} running={running} gpu_util={utilization}% gpu_mem={memory:.1}GiB"),
        )
    };
    let (level, message, asctime) = (json_string(level), json_string(&message), flask_stamp(at_ms));
    let record = format!(
        "{{\"levelname\": {level}, \"name\": \"foley.scheduler\", \"message\": {message}, \"asctime\": \"{asctime}\"}}\n"
    );
    let time_us = at_ms * 1000 + rng.between(0, 999);
    let time = DateTime::from_timestamp_micros(time_us).unwrap_or_default().format("%Y-%m-%dT%H:%M:%S%.6fZ");
    let text = format!("{{\"log\":{},\"stream\":\"stdout\",\"time\":\"{time}\"}}", json_string(&record));
    Line { shown_us: time_us, file: K8S_FILE, text }
}

fn k8s_event(kind: &str, reason: &str, message: &str, pod: &str, at_ms: i64) -> Line {
    let (message, stamp) = (json_string(message), format_utc(at_ms, "%Y-%m-%dT%H:%M:%SZ"));
    let text = format!(
        "{{\"kind\":\"Event\",\"type\":\"{kind}\",\"reason\":\"{reason}\",\"message\":{message},\"involvedObject\":\
         {{\"kind\":\"Pod\",\"name\":\"{pod}\",\"namespace\":\"foley\"}},\"lastTimestamp\":\"{stamp}\"}}"
    );
    Line::seconds(K8S_FILE, at_ms, text)
}

/// A JSON string literal (serialising a `str` cannot fail).
fn json_string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

/// An `inference.log` line: stamped in seconds mostly, in milliseconds sometimes.
fn inference_line(rng: &mut Rng, at_ms: i64, text: &str) -> Line {
    if rng.chance(0.3) {
        Line::millis(INFERENCE_FILE, at_ms, format!("{} {text}", millis_stamp(at_ms)))
    } else {
        Line::seconds(INFERENCE_FILE, at_ms, format!("{} {text}", format_utc(at_ms, "%Y-%m-%d %H:%M:%S")))
    }
}

fn format_utc(at_ms: i64, pattern: &str) -> String {
    DateTime::from_timestamp_millis(at_ms).unwrap_or_default().format(pattern).to_string()
}

fn millis_stamp(at_ms: i64) -> String {
    format_utc(at_ms, "%Y-%m-%d %H:%M:%S%.3f")
}

fn flask_stamp(at_ms: i64) -> String {
    format_utc(at_ms, "%Y-%m-%d %H:%M:%S,%3f")
}

fn nginx_stamp(at_ms: i64) -> String {
    format_utc(at_ms, "%d/%b/%Y:%H:%M:%S +0000")
}
