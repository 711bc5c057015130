//! The drill-down's actions, pure: the retry link, the Kibana link, the log bundle to export and
//! the Markdown incident summary of a video (the drill-down's, or the selected row of a list).
//! The runtime carries them out ([`super::effects`]).

use super::keys::Action;
use super::state::{Screen, State};
use super::update::Effect;
use crate::backend::Related;
use crate::stats::overview::VideoRow;

/// The video an action applies to: the drill-down's, else the selected row of the list on screen.
fn target(state: &State) -> (String, Option<VideoRow>) {
    if state.screen == Screen::Drill && !state.drill.video_id.is_empty() {
        let row = state.drill.related.as_ref().and_then(|r| r.row.clone());
        return (state.drill.video_id.clone(), row);
    }
    let row = super::update::selected_video(state).cloned();
    (row.as_ref().map(|r| r.video_id.clone()).unwrap_or_default(), row)
}

/// The retry link of a video row (the drill-down shows the same).
pub fn retry_link(state: &State, video_id: &str, row: Option<&VideoRow>) -> String {
    crate::integrate::links::retry_link(
        &state.links.retry_url,
        video_id,
        row.and_then(|r| r.request_id.as_deref()),
        row.and_then(|r| r.last_seen),
    )
}

/// Builds the effect of `y`, `o`, `e` or `c`.
pub fn drill_action(state: &mut State, action: Action) -> Vec<Effect> {
    use crate::integrate::links;
    let (video_id, row) = target(state);
    if video_id.is_empty() {
        state.set_status("no video selected");
        return Vec::new();
    }
    let (first, last) = row.as_ref().map_or((state.now_ms, state.now_ms), |r| {
        let last = r.last_seen.unwrap_or(state.now_ms);
        (r.first_seen.unwrap_or(last), last)
    });
    let retry = retry_link(state, &video_id, row.as_ref());
    let kibana = links::kibana_for_video(&state.links, &video_id, first, last);
    match action {
        Action::CopyRetry => vec![Effect::Copy { text: retry, label: "retry link".into() }],
        Action::OpenKibana => match kibana {
            Some(url) => vec![Effect::Open(url)],
            None => {
                state.set_status("no Kibana URL configured (links.kibana_url in the config)");
                Vec::new()
            }
        },
        Action::Export => {
            let Some(related) = state.drill.related.as_ref().filter(|r| r.video_id == video_id) else {
                state.set_status("open the video (Enter) before exporting its lines");
                return Vec::new();
            };
            vec![Effect::Export { video_id, content: bundle(related) }]
        }
        Action::CopySummary => {
            let explanation =
                state.drill.related.as_ref().filter(|r| r.video_id == video_id).map(|r| r.explanation.clone());
            let (cause, fix, rule) = match (&explanation, &row) {
                (Some(e), _) => (e.cause.clone(), e.fix.clone(), e.rule.clone()),
                (None, Some(r)) => (r.cause.clone(), r.fix.clone(), r.rule.clone()),
                _ => ("unknown".into(), "-".into(), None),
            };
            let fmt = |ms: Option<i64>| ms.map(crate::clock::format_ms).unwrap_or_else(|| "-".into());
            let summary = format!(
                "### Failing video `{video_id}`\n- failures: {}\n- codes: {}\n- likely cause: {cause}{}\n- suggested fix: {fix}\n- first seen: {}\n- last seen: {}\n- retry: {retry}\n- kibana: {}\n",
                row.as_ref().map_or(0, |r| r.failures),
                row.as_ref().map(|r| r.codes.join(", ")).unwrap_or_default(),
                rule.map(|r| format!(" (rule `{r}`)")).unwrap_or_default(),
                fmt(row.as_ref().and_then(|r| r.first_seen)),
                fmt(row.as_ref().and_then(|r| r.last_seen)),
                kibana.unwrap_or_else(|| "-".into()),
            );
            vec![Effect::Copy { text: summary, label: "incident summary".into() }]
        }
        _ => Vec::new(),
    }
}

/// A video's log bundle: every related line as `file:offset<TAB>line`, in time order. A Python
/// traceback joined to its event is written back as the lines it was (the event keeps it on one
/// line, its newlines shown as `\n`).
pub fn bundle(related: &Related) -> String {
    let mut out = String::new();
    for e in &related.events {
        let file = related.files.get(e.origin.file as usize).map_or("?", String::as_str);
        out.push_str(&format!("{file}:{}\t", e.origin.offset));
        out.push_str(&original_lines(e));
        out.push('\n');
    }
    out
}

pub use crate::backend::lines::original_lines;
