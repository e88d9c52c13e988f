//! The widget's copy of Yew (`widget/vendor/yew`) is the published crate plus
//! `earshot.patch`, nothing else: checked against the crate cargo downloads, so a change
//! to the copy cannot go in without its diff in the patch (and its reason in the README
//! beside it).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

use crate::{Result, cargo, root, step};

const CRATE: &str = "yew";
const VERSION: &str = "0.23.0";

pub fn check_yew() -> Result {
    step("Checking that the vendored Yew is the published crate plus earshot.patch");
    let vendored = root().join("widget/vendor/yew");
    let published = published_source()?;
    let expected = std::fs::read_to_string(vendored.join("earshot.patch"))
        .context("reading widget/vendor/yew/earshot.patch")?;
    let actual = diff(&published.join("src"), &vendored.join("src"))?;
    if actual != expected {
        let current = root().join("target/yew-vendored.patch");
        std::fs::write(&current, &actual).with_context(|| current.display().to_string())?;
        bail!(
            "widget/vendor/yew/src differs from yew {VERSION} by more or less than earshot.patch \
             (the difference as it is now: {}); update the patch and its README",
            current.display()
        );
    }
    eprintln!("    the same: yew {VERSION} from crates.io and earshot.patch");
    Ok(())
}

/// Where cargo unpacked the published crate, downloading it if needed: a throwaway package
/// outside the workspace (which patches Yew) depends on it, and `cargo metadata` says where
/// it is.
fn published_source() -> Result<PathBuf> {
    let dir = root().join("target/yew-published");
    std::fs::create_dir_all(dir.join("src")).with_context(|| dir.display().to_string())?;
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"yew-published\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n\
             [dependencies]\n{CRATE} = \"={VERSION}\"\n\n[workspace]\n"
        ),
    )
    .with_context(|| dir.display().to_string())?;
    std::fs::write(dir.join("src/lib.rs"), "")
        .with_context(|| format!("{}/src/lib.rs", dir.display()))?;
    let out = cargo()
        .args(["metadata", "--format-version", "1", "--manifest-path"])
        .arg(dir.join("Cargo.toml"))
        .output()
        .context("cargo metadata")?;
    if !out.status.success() {
        bail!(
            "cargo metadata for the published yew {VERSION}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let metadata: serde_json::Value =
        serde_json::from_slice(&out.stdout).context("cargo metadata's answer")?;
    metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|package| package["name"] == CRATE && package["version"] == VERSION)
        .and_then(|package| package["manifest_path"].as_str())
        .and_then(|manifest| Path::new(manifest).parent())
        .map(Path::to_path_buf)
        .with_context(|| format!("cargo metadata does not list yew {VERSION}"))
}

/// `diff -ruN a/src b/src`, as `earshot.patch` was written: paths from the crate's root,
/// no dates.
fn diff(published: &Path, vendored: &Path) -> Result<String> {
    let out = Command::new("diff")
        .args(["-ruN"])
        .arg(published)
        .arg(vendored)
        .output()
        .context("diff")?;
    // 0: the same, 1: different, 2: trouble.
    if out.status.code() == Some(2) {
        bail!("diff: {}", String::from_utf8_lossy(&out.stderr));
    }
    let text = String::from_utf8(out.stdout).context("diff")?;
    let (published, vendored) = (
        published.display().to_string(),
        vendored.display().to_string(),
    );
    Ok(text
        .lines()
        .map(|line| {
            let line = line
                .replace(&published, "a/src")
                .replace(&vendored, "b/src");
            match (
                line.starts_with("--- ") || line.starts_with("+++ "),
                line.find('\t'),
            ) {
                (true, Some(tab)) => line[..tab].to_owned(),
                _ => line,
            }
        })
        .map(|line| line + "\n")
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_difference_is_written_as_the_patch_is_from_the_crates_root_without_dates() {
        let dir = std::env::temp_dir().join(format!("earshot-vendor-{}", std::process::id()));
        let (published, vendored) = (dir.join("published/src"), dir.join("vendored/src"));
        for (root, text) in [(&published, "a\nb\n"), (&vendored, "a\nc\n")] {
            std::fs::create_dir_all(root.join("html")).unwrap();
            std::fs::write(root.join("html/same.rs"), "same\n").unwrap();
            std::fs::write(root.join("html/changed.rs"), text).unwrap();
        }
        std::fs::write(vendored.join("added.rs"), "new\n").unwrap();

        let patch = diff(&published, &vendored).unwrap();
        let unchanged = diff(&vendored, &vendored).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(unchanged, "", "nothing when the same");
        assert_eq!(
            patch,
            "diff -ruN a/src/added.rs b/src/added.rs\n\
             --- a/src/added.rs\n\
             +++ b/src/added.rs\n\
             @@ -0,0 +1 @@\n\
             +new\n\
             diff -ruN a/src/html/changed.rs b/src/html/changed.rs\n\
             --- a/src/html/changed.rs\n\
             +++ b/src/html/changed.rs\n\
             @@ -1,2 +1,2 @@\n \
             a\n\
             -b\n\
             +c\n"
        );
    }
}
