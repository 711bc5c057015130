//! Files the program creates cannot be turned against the user: the bundled demo goes into a fresh
//! private directory (a planted directory with symlinks in the temporary directory is never
//! written through), the app's log is mode 0600 and never followed through a symlink, and errors
//! are written to it.
#![allow(clippy::panic, clippy::unwrap_used)]

mod common;

use common::binary;
use std::os::unix::fs::PermissionsExt;

#[test]
fn a_planted_demo_directory_is_never_written_through() {
    let tmp = tempfile::tempdir().unwrap();
    let victim = tmp.path().join("victim");
    std::fs::write(&victim, "precious\n").unwrap();
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o600)).unwrap();
    // what another local user could prepare: the old fixed demo directory, full of symlinks
    let planted = tmp.path().join(format!("foley-triage-demo-{}", env!("CARGO_PKG_VERSION")));
    std::fs::create_dir(&planted).unwrap();
    for name in ["inference.log", "ffmpeg.log", "nginx_access.log", "flask.log", "k8s_events.jsonl"] {
        std::os::unix::fs::symlink(&victim, planted.join(name)).unwrap();
        std::os::unix::fs::symlink(&victim, planted.join(format!(".{name}.tmp1"))).unwrap();
    }
    let out = binary().args(["report", "--json"]).env("TMPDIR", tmp.path()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n", "the victim was overwritten");
    // and the run leaves nothing behind in the temporary directory but what was there
    let left: Vec<String> =
        std::fs::read_dir(tmp.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(left.len(), 2, "{left:?}");
}

#[test]
fn the_demo_directory_is_private() {
    let demo = foley_triage::demo::materialize().unwrap();
    let mode = std::fs::metadata(demo.path()).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
    for file in demo.files() {
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & 0o077, 0, "{} is readable by others", file.display());
    }
    // create_new refuses what is there already, a symlink included
    let link = demo.path().join("link");
    std::os::unix::fs::symlink("/etc/passwd", &link).unwrap();
    assert!(foley_triage::demo::create_new(&link).is_err());
    let path = demo.path().to_path_buf();
    drop(demo);
    assert!(!path.exists(), "removed when dropped");
}

#[test]
fn errors_go_to_a_private_log_that_is_never_a_symlink() {
    let home = tempfile::tempdir().unwrap();
    let state = home.path().join("state");
    let run = || {
        binary()
            .args(["report", "/no/such/file.log"])
            .env("HOME", home.path())
            .env("XDG_STATE_HOME", &state)
            .output()
            .unwrap()
    };
    let out = run();
    assert_eq!(out.status.code(), Some(2));
    let log = state.join("foley-triage").join("foley-triage.log");
    let text = std::fs::read_to_string(&log).unwrap_or_else(|e| panic!("{}: {e}", log.display()));
    assert!(text.contains("/no/such/file.log") && text.contains("no such file"), "{text}");
    assert_eq!(std::fs::metadata(&log).unwrap().permissions().mode() & 0o777, 0o600);
    // a symlink planted where the log goes is not followed
    let victim = home.path().join("victim");
    std::fs::write(&victim, "precious\n").unwrap();
    std::fs::remove_file(&log).unwrap();
    std::os::unix::fs::symlink(&victim, &log).unwrap();
    let out = run();
    assert_eq!(out.status.code(), Some(2), "the command still runs");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
}

/// `ship --output` into a directory where someone planted symlinks and hard links to a victim
/// never writes through them (it says so and stops); its own earlier output is replaced.
#[test]
fn ship_output_never_writes_through_a_planted_link() {
    let tmp = tempfile::tempdir().unwrap();
    let logs = tmp.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    std::fs::write(logs.join("inference.log"), "2025-09-02 10:00:00 [ERROR] video_id=vid_a error_code=MODEL_TIMEOUT\n")
        .unwrap();
    let out_dir = tmp.path().join("bulk");
    let ship = || {
        binary()
            .args(["ship", logs.to_str().unwrap(), "--output", out_dir.to_str().unwrap()])
            .env("TMPDIR", tmp.path())
            .output()
            .unwrap()
    };
    let first = ship();
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let mut written: Vec<std::path::PathBuf> =
        std::fs::read_dir(&out_dir).unwrap().map(|e| e.unwrap().path()).collect();
    written.sort();
    assert!(!written.is_empty());
    // shipping again replaces our own files
    let again = ship();
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    for (i, path) in written.iter().enumerate() {
        let victim = tmp.path().join(format!("victim{i}"));
        std::fs::write(&victim, "precious\n").unwrap();
        std::fs::remove_file(path).unwrap();
        if i % 2 == 0 {
            std::os::unix::fs::symlink(&victim, path).unwrap();
        } else {
            std::fs::hard_link(&victim, path).unwrap();
        }
    }
    let planted = ship();
    assert!(!planted.status.success(), "a planted link must stop the run");
    let stderr = String::from_utf8_lossy(&planted.stderr);
    assert!(stderr.contains("not written through"), "{stderr}");
    for i in 0..written.len() {
        let victim = tmp.path().join(format!("victim{i}"));
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n", "victim{i} was written through");
    }
}
