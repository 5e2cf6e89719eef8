//! Docs generated from the check registry cannot drift: `docs/checks/<CODE>.md` is each
//! check's `explain --lang en` page, `docs/checks/<CODE>.es.md` its Spanish page (`explain`) and the README's check table lists every registry entry.
//! Regenerate with `UPDATE_GOLDEN=1 cargo test --test docs_registry`.

use pedaudit::checks;
use std::path::Path;

const START: &str = "<!-- checks:start -->\n";
const END: &str = "<!-- checks:end -->";

#[test]
fn check_pages_and_readme_table_match_the_registry() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let dir = root.join("docs/checks");
    let mut stale = vec![];
    for c in checks::REGISTRY {
        // English page and Spanish page (`<CODE>.es.md`, what `explain` prints by default).
        for (path, want) in [
            (dir.join(format!("{}.md", c.code)), checks::check_page(c)),
            (
                dir.join(format!("{}.es.md", c.code)),
                checks::check_page_es(c),
            ),
        ] {
            if update {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(&path, &want).unwrap();
            } else if std::fs::read_to_string(&path).ok().as_deref() != Some(want.as_str()) {
                stale.push(path.display().to_string());
            }
        }
    }
    // No page for a check that no longer exists.
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        let name = e
            .file_name()
            .to_string_lossy()
            .trim_end_matches(".md")
            .trim_end_matches(".es")
            .to_string();
        if checks::find(&name).is_none() {
            stale.push(format!("{} (no such check)", e.path().display()));
        }
    }
    let readme_path = root.join("README.md");
    let readme = std::fs::read_to_string(&readme_path).unwrap();
    let (a, b) = (
        readme
            .find(START)
            .expect("README lacks <!-- checks:start -->")
            + START.len(),
        readme.find(END).expect("README lacks <!-- checks:end -->"),
    );
    let table = checks::check_table();
    if update {
        let mut s = readme.clone();
        s.replace_range(a..b, &table);
        std::fs::write(&readme_path, s).unwrap();
    } else if readme[a..b] != table {
        stale.push("README.md check table".into());
    }
    assert!(
        stale.is_empty(),
        "generated docs out of date (UPDATE_GOLDEN=1 cargo test --test docs_registry): {stale:?}"
    );
}
