//! Every change of an upload's updates, on its page and as downloads.
//!
//! The check writes the list of every changed field of every update (however many:
//! `clientele_import::changes`) and the job keeps it with the upload ([`keep`]). The upload
//! page shows it [`PER_PAGE`] lines at a time with page numbers, filtered by field, by a
//! text found in the account or company name, and to the updates that make customers other
//! companies; all through query parameters, so it works without JavaScript. The downloads
//! (`changes.csv`, `changes.xlsx`) hold every change, in the viewer's language.
//!
//! The list is read again for each view rather than indexed: one pass on the blocking pool
//! over a few megabytes for ordinary packs (27 MB where all 50,000 rows of a pack change 11
//! fields each), and uploads live a day.

use super::error::{Page, WebError};
use super::imports::{attachment, on_job_threads, owned, stem, XLSX};
use super::layout::url_encode;
use super::session::Web;
use crate::state::ApiContext;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use clientele_core::catalogue::{fold, FIELDS};
use clientele_core::Lang;
use clientele_import::changes;
use clientele_store::UploadFile;
use std::collections::{BTreeMap, HashMap};

/// Lines of the list on one page.
pub(super) const PER_PAGE: usize = 50;
/// The query parameters of the list, named apart from the rest of the page's.
const P_PAGE: &str = "changes_page";
const P_FIELD: &str = "changes_field";
const P_TEXT: &str = "changes_q";
const P_IDENTITY: &str = "changes_identity";

/// Keep the list a check or import wrote (at `path`) with its upload; before its report is
/// stored, so that a page showing the report finds the list.
pub(crate) async fn keep(state: &ApiContext, id: &str, path: &std::path::Path) {
    let bytes = match tokio::fs::read(path).await {
        Ok(b) => b,
        Err(e) => {
            tracing::error!("the list of changes of upload {id} was not written: {e}");
            return;
        }
    };
    let id2 = id.to_string();
    let kept = state
        .db(move |s| s.set_upload_file(&id2, UploadFile::Changes, &bytes))
        .await;
    if let Err(e) = kept {
        tracing::error!("cannot keep the list of changes of upload {id}: {e}");
    }
}

/// What the viewer asked to see.
#[derive(Debug, Clone, Default, PartialEq)]
struct Filter {
    /// A field's pack key (empty: every field).
    field: String,
    /// The text as typed, and folded (case and accents ignored) for matching.
    text: String,
    folded: String,
    /// Only the updates that make customers other companies.
    identity: bool,
    /// 1-based.
    page: usize,
}

impl Filter {
    fn from_query(q: &HashMap<String, String>) -> Filter {
        let text = q.get(P_TEXT).map_or("", |t| t.trim()).to_string();
        Filter {
            field: q.get(P_FIELD).cloned().unwrap_or_default(),
            folded: fold(&text),
            text,
            identity: q.get(P_IDENTITY).is_some_and(|v| v == "1" || v == "on"),
            page: q
                .get(P_PAGE)
                .and_then(|p| p.parse().ok())
                .unwrap_or(1)
                .max(1),
        }
    }

    fn is_set(&self) -> bool {
        !self.field.is_empty() || !self.text.is_empty() || self.identity
    }

    /// The query of this filter at page `page` (the defaults left out).
    fn query(&self, page: usize) -> Vec<(&'static str, String)> {
        let mut q = Vec::new();
        if !self.field.is_empty() {
            q.push((P_FIELD, self.field.clone()));
        }
        if !self.text.is_empty() {
            q.push((P_TEXT, self.text.clone()));
        }
        if self.identity {
            q.push((P_IDENTITY, "1".to_string()));
        }
        if page > 1 {
            q.push((P_PAGE, page.to_string()));
        }
        q
    }
}

/// One line of the list as shown.
#[derive(Debug, serde::Serialize)]
struct Line {
    row: u32,
    id: i64,
    account: String,
    name_before: String,
    name_after: String,
    field: String,
    label: String,
    before: String,
    after: String,
    identity: bool,
}

/// A field of the filter's select: its key, its name, and how many changes it has.
#[derive(Debug, serde::Serialize)]
struct FieldOption {
    key: String,
    label: String,
    count: usize,
}

/// A link of the pager: a page number, or a gap (`n` = 0).
#[derive(Debug, serde::Serialize)]
struct PageLink {
    n: usize,
    url: String,
    current: bool,
}

/// The list's part of the upload page.
#[derive(Debug, Default, serde::Serialize)]
pub(super) struct Section {
    /// The list was kept with the upload (uploads checked before it was, or whose list could
    /// not be stored, have only the report's first changes).
    kept: bool,
    /// Changed fields, and updated customers, in the whole list.
    total: usize,
    customers: usize,
    /// Changes that pass the filter.
    matching: usize,
    lines: Vec<Line>,
    page: usize,
    pages: usize,
    links: Vec<PageLink>,
    prev_url: Option<String>,
    next_url: Option<String>,
    clear_url: String,
    fields: Vec<FieldOption>,
    field: String,
    text: String,
    identity: bool,
    filtered: bool,
    /// The page's other query parameters, carried by the filter form.
    keep: Vec<(String, String)>,
}

/// The list's part of an upload's page, when its check found updates (`report`: the stored
/// check report); `query`: the page's query parameters.
pub(super) async fn section(
    state: &ApiContext,
    id: &str,
    report: Option<&serde_json::Value>,
    query: &HashMap<String, String>,
    lang: Lang,
) -> Result<Option<Section>, WebError> {
    let updates = report
        .filter(|r| r["status"] == "ok")
        .and_then(|r| r["update"].as_u64())
        .unwrap_or(0);
    if updates == 0 {
        return Ok(None);
    }
    let filter = Filter::from_query(query);
    let keep: Vec<(String, String)> = query
        .iter()
        .filter(|(k, _)| !k.starts_with("changes_"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let base = format!("/uploads/{id}");
    let id = id.to_string();
    // Read and scanned on the blocking pool: a long list is CPU work.
    let section = state
        .db(move |s| {
            let Some(raw) = s.upload_file(&id, UploadFile::Changes)? else {
                return Ok(Section::default());
            };
            let mut page = list_page(&raw, &filter, lang);
            if page.lines.is_empty() && page.matching > 0 {
                // Past the last page (the filter changed under a page number): the last one.
                let last = Filter {
                    page: page.matching.div_ceil(PER_PAGE),
                    ..filter.clone()
                };
                page = list_page(&raw, &last, lang);
            }
            Ok(page)
        })
        .await
        .map_err(|e| WebError::from(e).with_lang(lang))?;
    Ok(Some(with_links(section, &base, keep)))
}

/// Scan the kept list once: the totals, the fields present, and the lines of the filter's
/// page.
fn list_page(raw: &[u8], f: &Filter, lang: Lang) -> Section {
    let mut s = Section {
        kept: true,
        field: f.field.clone(),
        text: f.text.clone(),
        identity: f.identity,
        filtered: f.is_set(),
        ..Section::default()
    };
    let first = (f.page - 1) * PER_PAGE;
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut last_row = None;
    let mut text_hit = true;
    let scanned = changes::scan(raw, |c| {
        s.total += 1;
        if last_row != Some(c.row) {
            // One update's lines follow each other: its names are folded once.
            last_row = Some(c.row);
            s.customers += 1;
            text_hit = f.folded.is_empty()
                || [c.account, c.name_before, c.name_after]
                    .iter()
                    .any(|t| fold(t).contains(&f.folded));
        }
        // Counted before the filter: the select offers every field of the list.
        match counts.get_mut(c.field) {
            Some(n) => *n += 1,
            None => {
                counts.insert(c.field.to_string(), 1);
            }
        }
        let hit =
            text_hit && (!f.identity || c.identity) && (f.field.is_empty() || f.field == c.field);
        if !hit {
            return;
        }
        if s.matching >= first && s.matching < first + PER_PAGE {
            s.lines.push(Line {
                row: c.row,
                id: c.id,
                account: c.account.to_string(),
                name_before: c.name_before.to_string(),
                name_after: c.name_after.to_string(),
                field: c.field.to_string(),
                label: changes::field_label(lang, c.field).to_string(),
                before: c.before.to_string(),
                after: c.after.to_string(),
                identity: c.identity,
            });
        }
        s.matching += 1;
    });
    if let Err(e) = scanned {
        // A damaged list shows what could be read; the downloads say what is wrong.
        tracing::error!("list of changes: {e}");
    }
    s.page = f.page;
    s.pages = s.matching.div_ceil(PER_PAGE).max(1);
    // Pack order in the select.
    let order = |k: &str| {
        FIELDS
            .iter()
            .position(|d| d.pack_key == k)
            .unwrap_or(usize::MAX)
    };
    let mut fields: Vec<FieldOption> = counts
        .into_iter()
        .map(|(key, count)| FieldOption {
            label: changes::field_label(lang, &key).to_string(),
            key,
            count,
        })
        .collect();
    fields.sort_by_key(|o| order(&o.key));
    s.fields = fields;
    s
}

/// The pager's and the filter's links, keeping the page's other parameters.
fn with_links(mut s: Section, base: &str, keep: Vec<(String, String)>) -> Section {
    let filter = Filter {
        field: s.field.clone(),
        text: s.text.clone(),
        identity: s.identity,
        ..Filter::default()
    };
    let url = |params: Vec<(&str, String)>| {
        let q: Vec<String> = keep
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .chain(params.iter().map(|(k, v)| (*k, v.as_str())))
            .map(|(k, v)| format!("{}={}", url_encode(k), url_encode(v)))
            .collect();
        if q.is_empty() {
            format!("{base}#changes")
        } else {
            format!("{base}?{}#changes", q.join("&"))
        }
    };
    if s.kept {
        s.links = page_numbers(s.page, s.pages)
            .into_iter()
            .map(|n| PageLink {
                n,
                url: if n == 0 {
                    String::new()
                } else {
                    url(filter.query(n))
                },
                current: n == s.page,
            })
            .collect();
        s.prev_url = (s.page > 1).then(|| url(filter.query(s.page - 1)));
        s.next_url = (s.page < s.pages).then(|| url(filter.query(s.page + 1)));
    }
    s.clear_url = url(Vec::new());
    s.keep = keep;
    s
}

/// The page numbers to offer: the first, the last, and two on each side of the current
/// one; 0 marks a gap.
fn page_numbers(current: usize, pages: usize) -> Vec<usize> {
    let mut out = Vec::new();
    for n in 1..=pages {
        let near = n + 2 >= current && n <= current + 2;
        if n == 1 || n == pages || near {
            out.push(n);
        } else if out.last() != Some(&0) {
            out.push(0);
        }
    }
    out
}

/// Every change of an upload as CSV for a spreadsheet.
pub async fn csv(web: Web, State(state): State<ApiContext>, Path(id): Path<String>) -> Page {
    download(web, state, id, false).await
}

/// Every change of an upload as a workbook.
pub async fn xlsx(web: Web, State(state): State<ApiContext>, Path(id): Path<String>) -> Page {
    download(web, state, id, true).await
}

/// The kept list turned into a file for people, in the viewer's language, on the job
/// threads (a long list is seconds of work as a workbook).
async fn download(web: Web, state: ApiContext, id: String, as_xlsx: bool) -> Page {
    let lang = web.lang;
    let up = owned(&state, &web, id, false).await?;
    let i2 = up.id.clone();
    let Some(raw) = state
        .db(move |s| s.upload_file(&i2, UploadFile::Changes))
        .await?
    else {
        return Err(
            WebError::msg(StatusCode::NOT_FOUND, "upload.changes_not_kept").with_lang(lang),
        );
    };
    let bytes = on_job_threads(&state, lang, move || {
        if as_xlsx {
            changes::to_xlsx(raw.as_slice(), lang).and_then(|t| {
                t.save_to_buffer()
                    .map_err(|e| clientele_import::RunError::Io(e.to_string()))
            })
        } else {
            changes::to_csv(raw.as_slice(), lang, Vec::new())
        }
        .map_err(|e| e.to_string())
    })
    .await?;
    let name = format!("{}.modifications", stem(&up.name));
    Ok(if as_xlsx {
        attachment(&format!("{name}.xlsx"), XLSX, bytes)
    } else {
        attachment(&format!("{name}.csv"), "text/csv; charset=utf-8", bytes)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_numbers_show_ends_and_neighbours() {
        assert_eq!(page_numbers(1, 1), vec![1]);
        assert_eq!(page_numbers(1, 4), vec![1, 2, 3, 4]);
        assert_eq!(page_numbers(6, 20), vec![1, 0, 4, 5, 6, 7, 8, 0, 20]);
        assert_eq!(page_numbers(20, 20), vec![1, 0, 18, 19, 20]);
    }

    #[test]
    fn filters_read_from_the_query_and_back() {
        let q: HashMap<String, String> = [
            (P_FIELD, "postalCode"),
            (P_TEXT, "  Hôtel "),
            (P_IDENTITY, "1"),
            (P_PAGE, "0"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let f = Filter::from_query(&q);
        assert_eq!((f.page, f.folded.as_str(), f.identity), (1, "hotel", true));
        assert!(f.query(3).contains(&(P_PAGE, "3".to_string())));
        assert!(!f.query(1).iter().any(|(k, _)| *k == P_PAGE));
    }
}
