//! Reviewing in the TUI, drawn on a TestBackend: a draft with an injected drug the chart
//! never mentions (ワルファリン) is checked by the real provenance guard (real lindera
//! dictionary and lexicon), marked in the draft pane, listed in the guard panel and counted
//! in the status bar at 80x24 and 200x50; signing is refused until the flag is acknowledged,
//! then the document is read-only and 署名済; exports are 0600 files; the OSC 52 clipboard
//! sequence is asked for only by its key. Storage is real (temp data dir, chart locks).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may (Cargo.toml [lints])

use karte::chart::{Queue, Source};
use karte::nlp::Pipeline;
use karte::paths::AppPaths;
use karte::review::Verdict;
use karte::store::{self, LockDir, SessionContext};
use karte::tui::review;
use karte::tui::text;
use karte::tui::update;
use karte::tui::App;
use karte::tui::Command;
use karte::tui::DocumentService;
use karte::tui::EditKey;
use karte::tui::Keymap;
use karte::tui::{editor_ranges, SignState};
use karte::tui::{Action, Effect, QueueRow};
use karte::tui::{BeforeAction, MetricsHooks};
use karte::tui::{DocRef, DocumentKind, DocumentState};
use karte::tui::{DraftEvent, SectionStart};
use karte::tui::{GuardRequest, GuardRunner};
use karte::tui::{ModelState, ModelStatus};
use karte::tui::{Theme, UiPart};
use ratatui::buffer::Buffer;
use ratatui::style::Modifier;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

mod metrics_common;
mod tui_support;
use tui_support::{draw, screen};

const HEADING: &str = "症状経過・検査結果・治療経過";
const FAITHFUL: &str = "市中肺炎（右下葉）の診断で入院した。\nセフトリアキソン 2g 1日1回で治療を開始した。\nCRP 18.6 から 3.2 へ改善した。";
const INJECTED: &str = "ワルファリンの内服を開始した。";

fn pipeline() -> Arc<Pipeline> {
    static PIPELINE: OnceLock<Arc<Pipeline>> = OnceLock::new();
    Arc::clone(PIPELINE.get_or_init(|| {
        Arc::new(Pipeline::load(&AppPaths::discover().unwrap().ipadic_dir()).unwrap())
    }))
}

/// No queue yet: `Harness::new` loads it through the harness, so its effects (looking up
/// signed versions in the data dir) are carried out, unlike `tui_support::app`.
fn app(width: u16, height: u16) -> App {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo");
    let model = ModelStatus {
        file_name: "gemma-3-270m-q4_k_m.gguf".into(),
        state: ModelState::Missing,
    };
    let mut app = App::new(
        Keymap::default(),
        Theme::built_in("dark").unwrap(),
        demo.clone(),
        model,
        width,
        height,
    );
    app.review.signer = "山田 花子".into();
    app
}

fn queue_loaded() -> Action {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo");
    Action::QueueLoaded(QueueRow::from_queue(&Queue::scan(&demo).unwrap()))
}

fn service(dir: &Path) -> DocumentService {
    DocumentService::new(SessionContext {
        data_dir: dir.join("data"),
        locks: LockDir::new(dir.join("locks")),
        user: "山田 花子".into(),
        session_id: store::new_session_id(),
    })
    .with_hospital(karte::export::HospitalConfig {
        name: Some("かるて総合病院".into()),
        code: Some("1311234567".into()),
        address: Some("東京都千代田区千代田1-1".into()),
        phone: Some("03-1234-5678".into()),
        ..Default::default()
    })
}

/// The event loop's part, done inline: storage effects through the document service, guard
/// checks through a `GuardRunner` (the worker thread's core), answers fed back. Returns the
/// effects nothing here carries out (e.g. `CopyToClipboard`, which the loop writes itself).
struct Harness {
    app: App,
    docs: DocumentService,
    guard: GuardRunner,
    /// Every effect seen, in order.
    seen: Vec<Effect>,
    /// The metrics recorder's hooks, as the event loop runs them (no recorder: no-op).
    hooks: MetricsHooks,
}

impl Harness {
    fn new(dir: &Path, width: u16, height: u16) -> Self {
        let mut harness = Self {
            app: app(width, height),
            docs: service(dir),
            guard: GuardRunner::new(pipeline()),
            seen: Vec::new(),
            hooks: MetricsHooks::default(),
        };
        harness.act(queue_loaded());
        harness
    }

    fn act(&mut self, action: Action) -> Vec<Effect> {
        let mut queue = std::collections::VecDeque::from([action]);
        let mut other = Vec::new();
        while let Some(action) = queue.pop_front() {
            let before = BeforeAction::of(&self.app, &action);
            let effects = update(&mut self.app, action);
            self.hooks.observe(&before, &self.app, &effects);
            for effect in effects {
                self.seen.push(effect.clone());
                match effect {
                    Effect::OpenDocument { chart_id, document } => {
                        let opened = self.docs.open(&chart_id, document);
                        queue.push_back(Action::DocumentOpened {
                            chart_id: chart_id.clone(),
                            document,
                            opened,
                        });
                        queue.extend(review::signed_version(
                            Some(&self.docs),
                            &chart_id,
                            document,
                        ));
                    }
                    Effect::JournalSections {
                        chart_id,
                        document,
                        sections,
                        generated,
                    } => self
                        .docs
                        .journal(&chart_id, document, sections, generated)
                        .unwrap(),
                    Effect::JournalDocument {
                        chart_id,
                        document,
                        text,
                        sections,
                    } => self
                        .docs
                        .journal_document(&chart_id, document, text, sections)
                        .unwrap(),
                    Effect::CheckGuard {
                        chart,
                        document,
                        sections,
                        provenance,
                    } => queue.push_back(self.guard.check(GuardRequest {
                        chart,
                        document,
                        sections,
                        provenance,
                    })),
                    Effect::LookUpSigned { chart_id } => {
                        for document in DocumentKind::ALL {
                            queue.extend(
                                review::signed_version(Some(&self.docs), &chart_id, document)
                                    .filter(review::has_signed_version),
                            );
                        }
                    }
                    Effect::SummarizeChart(chart) => {
                        queue.push_back(self.guard.summarize(&chart));
                    }
                    Effect::Acknowledge {
                        chart_id,
                        document,
                        item_id,
                        withdraw,
                    } => {
                        let problem = review::acknowledge(
                            Some(&self.docs),
                            &chart_id,
                            document,
                            &item_id,
                            withdraw,
                        );
                        assert!(problem.is_none(), "{problem:?}");
                    }
                    Effect::Sign {
                        chart,
                        document,
                        sections,
                        acknowledged,
                    } => queue.push_back(review::sign(
                        Some(&self.docs),
                        &chart,
                        document,
                        &sections,
                        acknowledged,
                    )),
                    Effect::Export {
                        chart,
                        signed,
                        format,
                    } => queue.push_back(review::export(Some(&self.docs), &chart, &signed, format)),
                    other_effect => other.push(other_effect),
                }
            }
        }
        other
    }

    fn command(&mut self, command: Command) -> Vec<Effect> {
        self.act(Action::Command(command))
    }

    /// A finished referral draft with the injected drug, opened for editing.
    fn open_draft_with_injected_drug(&mut self) {
        let chart_id = self.app.selected_chart().unwrap().id.clone();
        let body = format!("{FAITHFUL}\n{INJECTED}");
        for event in [
            DraftEvent::Started {
                sections: vec![SectionStart {
                    title: HEADING.into(),
                    text: String::new(),
                    generated: true,
                }],
            },
            DraftEvent::SectionDone {
                section: 0,
                text: Some(body),
            },
            DraftEvent::Finished,
        ] {
            self.act(Action::Draft {
                chart_id: chart_id.clone(),
                document: DocumentKind::Referral,
                event,
            });
        }
        self.command(Command::EditDraft);
        assert!(self.app.is_editing(), "{:?}", self.app.status);
        self.act(Action::Edit(EditKey::Leave));
    }

    fn editor_text(&self) -> String {
        self.app
            .current_edit()
            .and_then(|e| e.editor.as_ref())
            .map(|e| e.text().to_string())
            .unwrap()
    }

    fn status(&self) -> String {
        self.app.status.clone().unwrap_or_default()
    }
}

/// Every cell (x, y) where `word` starts on screen.
fn find(buffer: &Buffer, word: &str) -> Vec<(u16, u16)> {
    let first: String = word.chars().next().unwrap().to_string();
    let mut found = Vec::new();
    for y in 0..buffer.area.height {
        for x in 0..buffer.area.width {
            if buffer[(x, y)].symbol() != first {
                continue;
            }
            let mut cx = x;
            let mut ok = true;
            for c in word.chars() {
                if cx >= buffer.area.width || buffer[(cx, y)].symbol() != c.to_string() {
                    ok = false;
                    break;
                }
                cx += u16::try_from(text::width(&c.to_string()).max(1)).unwrap();
            }
            if ok {
                found.push((x, y));
            }
        }
    }
    found
}

fn status_line(buffer: &Buffer) -> String {
    screen(buffer)
        .lines()
        .last()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn guard_marks_panel_and_counts_at_80x24_and_200x50() {
    for (width, height) in [(80, 24), (200, 50)] {
        let dir = tempfile::tempdir().unwrap();
        let mut h = Harness::new(dir.path(), width, height);
        h.open_draft_with_injected_drug();
        let key = DocRef::new(
            h.app.selected_chart().unwrap().id.clone(),
            DocumentKind::Referral,
        );
        let report = h.app.review.guards[&key].report.clone().unwrap();
        let flagged: Vec<(&str, Verdict)> = report
            .flagged()
            .map(|i| (i.text.as_str(), i.verdict))
            .collect();
        assert_eq!(
            flagged,
            vec![("ワルファリン", Verdict::Unsupported)],
            "{report:#?}"
        );

        // Marks in the draft pane: the invented drug on the theme's unsupported colours,
        // a supported drug only underlined.
        let theme = &h.app.theme;
        let buffer = draw(&h.app);
        let shown = screen(&buffer);
        let at = find(&buffer, "ワルファリン");
        assert_eq!(at.len(), 1, "{shown}");
        let cell = &buffer[at[0]];
        assert_eq!(
            cell.bg,
            theme.ui(UiPart::GuardUnsupported).bg.unwrap(),
            "{width}x{height}"
        );
        let supported = find(&buffer, "セフトリアキソン");
        assert!(
            buffer[supported[0]].modifier.contains(Modifier::UNDERLINED),
            "{width}x{height}: supported items are underlined"
        );
        assert_ne!(
            buffer[supported[0]].bg,
            theme.ui(UiPart::GuardUnsupported).bg.unwrap()
        );
        // Status bar counts.
        let bar = status_line(&buffer);
        assert!(bar.contains("未確認 1 / 矛盾 0 / 省略"), "{bar}");

        // The guard panel lists the flag with its explanation, and the omitted facts.
        h.command(Command::ToggleGuardPanel);
        let buffer = draw(&h.app);
        let shown = screen(&buffer);
        assert!(shown.contains("根拠照合"), "{shown}");
        assert!(shown.contains("未確認 「ワルファリン」"), "{shown}");
        assert!(shown.contains("カルテに記載なし"), "{shown}");
        if height >= 50 {
            assert!(shown.contains("省略 (カルテにあり下書きにない)"), "{shown}");
        }

        // f: the editor's cursor goes to the flag; the panel marks it as selected.
        h.command(Command::NextFlag);
        let text = h.editor_text();
        let edit = h.app.current_edit().unwrap();
        assert_eq!(
            edit.editor.as_ref().unwrap().cursor(),
            text.find("ワルファリン").unwrap()
        );
        assert!(h.status().contains("カルテに記載なし"), "{}", h.status());
        let shown = screen(&draw(&h.app));
        assert!(shown.contains("▶未確認 「ワルファリン」"), "{shown}");

        // o on a supported item with a note source: the chart pane shows the span marked.
        let report = h.app.review.guards[&key].report.clone().unwrap();
        let edit = h.app.current_edit().unwrap();
        let (item, range) = editor_ranges(edit, report.items.iter())
            .into_iter()
            .find(|(i, _)| {
                i.verdict == Verdict::Supported
                    && i.sources.iter().any(|s| matches!(s, Source::Note { .. }))
            })
            .expect("a supported item from a note");
        let item = item.clone();
        h.app
            .current_edit_mut()
            .unwrap()
            .editor
            .as_mut()
            .unwrap()
            .set_cursor(range.start);
        h.command(Command::JumpToSource);
        let mark = h.app.review.source_mark.clone().expect("a source span");
        let Some(Source::Note { id, start, end }) = item
            .sources
            .iter()
            .find(|s| matches!(s, Source::Note { .. }))
        else {
            unreachable!()
        };
        assert_eq!((&mark.note_id, mark.start, mark.end), (id, *start, *end));
        let chart = h.app.selected_chart().unwrap().clone();
        let span: String = chart
            .note(id)
            .unwrap()
            .text
            .chars()
            .skip(*start)
            .take(end - start)
            .collect();
        let buffer = draw(&h.app);
        let marked = find(&buffer, span.chars().take(2).collect::<String>().as_str());
        let source_bg = h.app.theme.ui(UiPart::SourceMark).bg.unwrap();
        assert!(
            marked.iter().any(|&p| buffer[p].bg == source_bg),
            "{width}x{height}: the source span {span:?} is marked in the chart pane:\n{}",
            screen(&buffer)
        );
    }
}

#[test]
fn signing_waits_for_the_acknowledgement_then_the_document_is_read_only_and_exports() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = Harness::new(dir.path(), 200, 50);
    h.open_draft_with_injected_drug();
    let chart = h.app.selected_chart().unwrap().clone();
    let key = DocRef::new(chart.id.clone(), DocumentKind::Referral);

    // Export and copy need a signed version; nothing is sent to the clipboard meanwhile.
    h.command(Command::ExportText);
    assert!(
        h.status().contains("署名済みの版がありません"),
        "{}",
        h.status()
    );

    // Refused while the flag is open: the message says what is left.
    h.command(Command::Sign);
    assert!(h.app.review.sign_prompt.is_none());
    let refusal = h.status();
    assert!(
        refusal.contains("署名できません") && refusal.contains("未確認 1 件"),
        "{refusal}"
    );
    assert!(refusal.contains("ワルファリン"), "{refusal}");

    // Acknowledge it (journaled + audited), then signing asks for confirmation.
    h.command(Command::NextFlag);
    h.command(Command::AcknowledgeFlag);
    assert!(h.status().contains("残り 0 件"), "{}", h.status());
    let item_id = h.app.review.guards[&key]
        .acknowledged
        .iter()
        .next()
        .unwrap()
        .clone();
    // Pressed again by mistake: taken back (journaled), signing is refused again; a third
    // press acknowledges it once more.
    h.command(Command::AcknowledgeFlag);
    assert!(
        h.status().contains("確認を取り消しました"),
        "{}",
        h.status()
    );
    assert!(h.app.review.guards[&key].acknowledged.is_empty());
    h.command(Command::Sign);
    assert!(h.app.review.sign_prompt.is_none(), "{}", h.status());
    h.docs
        .session(&key.chart_id, key.kind)
        .unwrap()
        .flush(std::time::Duration::from_secs(5))
        .unwrap();
    let journaled = store::recover(
        &store::DocumentStore::new(h.docs.data_dir()),
        &key.chart_id,
        key.kind,
    )
    .unwrap()
    .unwrap();
    assert!(
        journaled.state.acknowledged.is_empty(),
        "withdrawn in the journal too"
    );
    h.command(Command::AcknowledgeFlag);
    assert!(h.status().contains("残り 0 件"), "{}", h.status());
    let buffer = draw(&h.app);
    let at = find(&buffer, "ワルファリン");
    assert_eq!(
        buffer[at[0]].bg,
        h.app.theme.ui(UiPart::GuardAcknowledged).bg.unwrap(),
        "an acknowledged flag looks settled"
    );
    assert!(status_line(&buffer).contains("未確認 0 / 矛盾 0"));

    h.command(Command::Sign);
    assert!(h.app.review.sign_prompt.is_some(), "{}", h.status());
    let shown = screen(&draw(&h.app));
    assert!(
        shown.contains("署名の確認") && shown.contains("山田 花子"),
        "{shown}"
    );
    // Other keys do nothing while the prompt is open; n cancels, y signs.
    h.command(Command::Quit);
    assert!(!h.app.should_quit);
    h.act(Action::SignAnswer(false));
    assert!(h.app.review.sign_prompt.is_none());
    h.command(Command::Sign);
    h.act(Action::SignAnswer(true));
    let Some(SignState::Signed(signed)) = h.app.review.signed.get(&key).cloned() else {
        panic!("not signed: {}", h.status());
    };
    assert_eq!(signed.version, 1);
    assert_eq!(signed.signer, "山田 花子");
    assert_eq!(signed.acknowledged, vec![item_id.clone()]);
    assert!(signed.sections[0].text.contains("ワルファリン"));
    assert_eq!(
        h.app.document_states(&chart).referral_letter,
        DocumentState::Signed
    );
    let buffer = draw(&h.app);
    let shown = screen(&buffer);
    assert!(shown.contains("署名済 第1版 山田 花子"), "{shown}");
    let bar = status_line(&buffer);
    assert!(
        bar.contains("E テキスト出力") && bar.contains("y コピー"),
        "{bar}"
    );
    let queue_row = shown
        .lines()
        .find(|l| l.contains(chart.patient.name.as_str()))
        .unwrap();
    assert!(
        queue_row.contains("署名済"),
        "the queue shows 署名済: {queue_row}"
    );

    // Read-only: typing changes nothing, editing is refused with a pointer to amend.
    let before = h.editor_text();
    h.act(Action::Edit(EditKey::Type("追記".into())));
    h.act(Action::Paste("貼り付け".into()));
    assert_eq!(h.editor_text(), before);
    h.command(Command::EditDraft);
    assert!(!h.app.is_editing());
    assert!(h.status().contains("修正版"), "{}", h.status());

    // Exports: 0600 files in <data>/exports (0700), path in the status bar.
    h.command(Command::ExportText);
    let status = h.status();
    assert!(status.starts_with("書き出しました: "), "{status}");
    let text_path = std::path::PathBuf::from(status.trim_start_matches("書き出しました: "));
    assert!(text_path.starts_with(dir.path().join("data/exports")));
    let bar = status_line(&draw(&h.app));
    assert!(bar.contains("exports/"), "{bar}");
    h.command(Command::ExportFhir);
    // The path, then the JP-CLINS codes the chart lacks, shown before anything is sent.
    let status = h.status();
    let (fhir_path, warning) = status
        .trim_start_matches("書き出しました: ")
        .split_once(" — ")
        .unwrap_or_else(|| panic!("no warning: {status}"));
    assert!(warning.contains("MEDIS病名管理番号"), "{warning}");
    let fhir_path = std::path::PathBuf::from(fhir_path);
    h.command(Command::ExportPdf);
    let status = h.status();
    let pdf_path = std::path::PathBuf::from(
        status
            .trim_start_matches("書き出しました: ")
            .split(" — ")
            .next()
            .unwrap(),
    );
    assert!(
        std::fs::read(&pdf_path)
            .unwrap_or_default()
            .starts_with(b"%PDF-"),
        "{status}"
    );
    for path in [&text_path, &fhir_path, &pdf_path] {
        let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", path.display());
    }
    let dir_mode = std::fs::metadata(dir.path().join("data/exports"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(dir_mode, 0o700);
    let exported = std::fs::read_to_string(&text_path).unwrap();
    assert!(exported.contains("ワルファリン") && exported.contains("【症状経過"));
    let bundle: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&fhir_path).unwrap()).unwrap();
    assert_eq!(bundle["resourceType"], "Bundle");
    assert_eq!(bundle["type"], "document");

    // OSC 52: never asked for until its key; then once, with the document's text.
    assert!(!h
        .seen
        .iter()
        .any(|e| matches!(e, Effect::CopyToClipboard { .. })));
    let effects = h.command(Command::CopyToClipboard);
    let expected = karte::export::document_text(&signed, &chart);
    assert_eq!(
        effects,
        vec![Effect::CopyToClipboard {
            text: expected.clone()
        }]
    );
    let mut terminal_bytes = Vec::new();
    let message = review::copy_to_clipboard(&mut terminal_bytes, &expected);
    assert!(message.contains("クリップボード"), "{message}");
    let written = String::from_utf8(terminal_bytes).unwrap();
    let plain = karte::export::osc52_sequence(&expected).unwrap();
    let tmux = karte::export::osc52_tmux_sequence(&expected).unwrap();
    assert!(written == plain || written == tmux);

    // Amend: editable again; signing makes version 2, linked to version 1.
    h.command(Command::Amend);
    h.command(Command::EditDraft);
    assert!(h.app.is_editing(), "{}", h.status());
    h.act(Action::Edit(EditKey::Move {
        motion: karte::editor::Motion::DocumentEnd,
        extend: false,
    }));
    h.act(Action::Edit(EditKey::Type(
        "\n退院後は近医で経過観察とする。".into(),
    )));
    assert!(h.editor_text().ends_with("経過観察とする。"));
    h.act(Action::Edit(EditKey::Leave));
    h.command(Command::Sign);
    h.act(Action::SignAnswer(true));
    let Some(SignState::Signed(v2)) = h.app.review.signed.get(&key).cloned() else {
        panic!("amendment not signed: {}", h.status());
    };
    assert_eq!(v2.version, 2);
    assert_eq!(v2.amends.as_ref().map(|a| a.version), Some(1));
    assert!(screen(&draw(&h.app)).contains("署名済 第2版 山田 花子 "));

    // Another run (same data dir): opening shows the signed version, read-only.
    h.docs.close();
    let mut again = Harness::new(dir.path(), 200, 50);
    // The queue knows it is signed before the document is opened.
    assert_eq!(
        again.app.document_states(&chart).referral_letter,
        DocumentState::Signed
    );
    let shown = screen(&draw(&again.app));
    let queue_row = shown
        .lines()
        .find(|l| l.contains(chart.patient.name.as_str()))
        .unwrap();
    assert!(queue_row.contains("署名済"), "{queue_row}");
    again.command(Command::EditDraft);
    assert!(again.app.review.is_signed(&key), "{}", again.status());
    assert!(again.editor_text().contains("経過観察とする。"));
    assert!(!again.app.is_editing());
    assert!(again.app.review.guards[&key]
        .acknowledged
        .contains(&item_id));
}

#[test]
fn guard_latency_per_keystroke() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = Harness::new(dir.path(), 200, 50);
    h.open_draft_with_injected_drug();
    h.command(Command::EditDraft);
    assert!(h.app.is_editing());
    h.act(Action::Edit(EditKey::Move {
        motion: karte::editor::Motion::DocumentEnd,
        extend: false,
    }));
    let typed = "\n退院後は近医で経過観察とし、1か月後に胸部X線を再検する。";
    let mut update_us = Vec::new();
    let mut guard_us = Vec::new();
    for c in typed.chars() {
        // The UI thread's part: update (including the guard request it makes).
        let started = Instant::now();
        let effects = update(&mut h.app, Action::Edit(EditKey::Type(c.to_string())));
        update_us.push(started.elapsed().as_secs_f64() * 1e6);
        for effect in effects {
            if let Effect::CheckGuard {
                chart,
                document,
                sections,
                provenance,
            } = effect
            {
                // The worker's part: incremental re-check + report.
                let answer = h.guard.check(GuardRequest {
                    chart,
                    document,
                    sections,
                    provenance,
                });
                let Action::GuardChecked { micros, .. } = answer else {
                    panic!("guard answered something else");
                };
                guard_us.push(micros as f64);
                update(&mut h.app, answer);
            }
        }
    }
    // Every keystroke that changes a section's text is re-checked (the leading newline
    // only adds a trailing empty line, which is not part of the section's text).
    assert_eq!(guard_us.len(), typed.chars().count() - 1);
    // The guard's share of the UI thread's work per keystroke: reading the sections to
    // compare with what was sent, and the verdict marks drawn in the editor.
    let key = DocRef::new(
        h.app.selected_chart().unwrap().id.clone(),
        DocumentKind::Referral,
    );
    let started = Instant::now();
    let rounds = 50;
    for _ in 0..rounds {
        let edit = h.app.edits.get(&key).unwrap();
        let sections =
            karte::tui::guard_sections(h.app.templates.get(key.kind), Some(edit), None).unwrap();
        assert!(!sections.is_empty());
        assert!(!karte::tui::editor_marks(&h.app, edit).is_empty());
    }
    let bookkeeping = started.elapsed().as_secs_f64() * 1e6 / f64::from(rounds);
    println!("guard bookkeeping on the UI thread: {bookkeeping:.0} µs per keystroke");
    let stats = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.total_cmp(b));
        (v[v.len() / 2], v[v.len() * 95 / 100], v[v.len() - 1])
    };
    let (u50, u95, umax) = stats(&mut update_us);
    let (g50, g95, gmax) = stats(&mut guard_us);
    println!(
        "per keystroke ({} keys): UI update median {u50:.0} µs, p95 {u95:.0} µs, max {umax:.0} µs; guard worker median {g50:.0} µs, p95 {g95:.0} µs, max {gmax:.0} µs",
        typed.chars().count()
    );
    // Timings are printed, not asserted (the test machine is shared); what is asserted is
    // that the UI thread only asks (an `Effect`) and the check runs elsewhere.
}

#[test]
fn a_finished_draft_shows_the_guard_marks_before_it_is_edited() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = Harness::new(dir.path(), 200, 50);
    let chart_id = h.app.selected_chart().unwrap().id.clone();
    for event in [
        DraftEvent::Started {
            sections: vec![SectionStart {
                title: HEADING.into(),
                text: String::new(),
                generated: true,
            }],
        },
        DraftEvent::Text {
            section: 0,
            text: format!("{FAITHFUL}\n{INJECTED}"),
        },
    ] {
        h.act(Action::Draft {
            chart_id: chart_id.clone(),
            document: DocumentKind::Referral,
            event,
        });
    }
    // While the draft streams, the guard waits.
    assert!(!h
        .seen
        .iter()
        .any(|e| matches!(e, Effect::CheckGuard { .. })));
    h.act(Action::Draft {
        chart_id,
        document: DocumentKind::Referral,
        event: DraftEvent::Finished,
    });
    assert!(h
        .seen
        .iter()
        .any(|e| matches!(e, Effect::CheckGuard { .. })));
    h.app.focus = karte::tui::Pane::Draft;
    let buffer = draw(&h.app);
    let at = find(&buffer, "ワルファリン");
    assert_eq!(at.len(), 1, "{}", screen(&buffer));
    assert_eq!(
        buffer[at[0]].bg,
        h.app.theme.ui(UiPart::GuardUnsupported).bg.unwrap()
    );
    assert!(status_line(&buffer).contains("未確認 1 / 矛盾 0"));
}

#[test]
fn the_summary_panel_lists_the_structured_chart_and_jumps_to_sources() {
    for (width, height) in [(80, 24), (200, 50)] {
        let dir = tempfile::tempdir().unwrap();
        let mut h = Harness::new(dir.path(), width, height);
        assert!(!h
            .seen
            .iter()
            .any(|e| matches!(e, Effect::SummarizeChart(_))));
        h.command(Command::ToggleSummary);
        let chart = h.app.selected_chart().unwrap().clone();
        let summary = h.app.review.summaries[&chart.id].clone();
        assert!(!summary.problems.is_empty() && !summary.medications.is_empty());
        let shown = screen(&draw(&h.app));
        assert!(shown.contains("要約"), "{shown}");
        assert!(shown.contains("病名 ("), "{width}x{height}:\n{shown}");
        let first = &summary.problems[0];
        assert!(
            shown.contains(&format!(
                "{} [{}]",
                first.name,
                karte::tui::certainty_label(first.certainty)
            )),
            "{width}x{height}: problem with its certainty:\n{shown}"
        );
        // Select a medication row and show its source.
        let rows = karte::tui::summary_rows(&summary);
        let choices = karte::tui::selectable(&rows);
        let medication = choices
            .iter()
            .position(|&i| {
                rows[i].kind == karte::tui::RowKind::Medication
                    && rows[i]
                        .sources
                        .iter()
                        .any(|s| matches!(s, Source::Note { .. }))
            })
            .expect("a medication mentioned in a note");
        for _ in 0..medication {
            h.command(Command::MoveDown);
        }
        assert_eq!(h.app.review.summary_selected, medication);
        h.command(Command::Open);
        assert!(h.status().contains("の根拠"), "{}", h.status());
        let mark = h
            .app
            .review
            .source_mark
            .clone()
            .expect("a note span marked");
        let row = &rows[choices[medication]];
        assert!(row.sources.iter().any(|s| matches!(s,
            Source::Note { id, start, end } if *id == mark.note_id && *start == mark.start && *end == mark.end)));
        let buffer = draw(&h.app);
        let source_bg = h.app.theme.ui(UiPart::SourceMark).bg.unwrap();
        assert!(
            buffer.content().iter().any(|c| c.bg == source_bg),
            "{width}x{height}: the source span is marked in the chart pane:\n{}",
            screen(&buffer)
        );
    }
}

/// The review steps as the metrics DB sees them: the guard's flag raised, an accepted
/// section, an edit, the acknowledgement, the signature measured against the AI draft, and
/// three exports (text, FHIR, clipboard), all recorded by the hooks the event loop runs.
#[test]
fn reviewing_signing_and_exporting_are_recorded_and_measured() {
    use karte::metrics::{load_report, EventKind, MetricsConfig, PseudonymKey, Recorder};
    let dir = tempfile::tempdir().unwrap();
    let paths = AppPaths::under(&dir.path().join("home"));
    std::fs::create_dir_all(&paths.data_dir).unwrap();
    let config = MetricsConfig::default();
    let mut h = Harness::new(dir.path(), 200, 50);
    h.hooks = MetricsHooks::with_recorder(Recorder::start_for(&paths, &config));
    assert!(h.hooks.recorder().is_some());

    h.command(Command::Open);
    h.open_draft_with_injected_drug();
    // Accept the section, then take the mark back and give it again: two accepts.
    h.command(Command::AcceptSection);
    h.command(Command::AcceptSection);
    h.command(Command::AcceptSection);
    h.command(Command::EditDraft);
    h.act(Action::Edit(EditKey::Move {
        motion: karte::editor::Motion::DocumentEnd,
        extend: false,
    }));
    // A drug typed key by key is flagged by the guard's re-check (the chart never names it).
    // Typed, deleted and typed again, then edit mode is left with it: one flag raised (the
    // passing one while typing is not counted); deleted in a second edit: one fixed.
    let key = DocRef::new(
        h.app.selected_chart().unwrap().id.clone(),
        DocumentKind::Referral,
    );
    let type_drug = |h: &mut Harness| {
        for c in "ヘパリン".chars() {
            h.act(Action::Edit(EditKey::Type(c.to_string())));
        }
        let report = h.app.review.guards[&key].report.clone().unwrap();
        assert!(
            report.flagged().any(|item| item.text == "ヘパリン"),
            "{report:#?}"
        );
    };
    let delete_drug = |h: &mut Harness| {
        for _ in 0..4 {
            h.act(Action::Edit(EditKey::DeleteBackward));
        }
    };
    type_drug(&mut h);
    delete_drug(&mut h);
    type_drug(&mut h);
    h.act(Action::Edit(EditKey::Leave));
    h.command(Command::EditDraft);
    delete_drug(&mut h);
    h.act(Action::Edit(EditKey::Type("経過良好。".into())));
    h.act(Action::Edit(EditKey::Leave));
    h.command(Command::NextFlag);
    // Acknowledged, taken back, acknowledged again: one flag acknowledged.
    h.command(Command::AcknowledgeFlag);
    h.command(Command::AcknowledgeFlag);
    h.command(Command::AcknowledgeFlag);
    h.command(Command::Sign);
    h.act(Action::SignAnswer(true));
    assert!(
        matches!(h.app.review.signed.get(&key), Some(SignState::Signed(_))),
        "{}",
        h.status()
    );
    h.command(Command::ExportText);
    h.command(Command::ExportFhir);
    h.command(Command::CopyToClipboard);
    assert!(
        h.hooks.finish(std::time::Duration::from_secs(5)),
        "all written"
    );

    let db_path = karte::metrics::db_path(&paths);
    let count = metrics_common::event_counts(&paths);
    assert_eq!(count(EventKind::FlagRaised { count: 0 }), 2);
    assert_eq!(count(EventKind::FlagFixed { count: 0 }), 1);
    assert_eq!(count(EventKind::AcceptSection), 2);
    assert_eq!(count(EventKind::AcknowledgeFlag), 1);
    assert_eq!(count(EventKind::Sign(Default::default())), 1);
    assert_eq!(count(EventKind::Export), 3);
    drop(count);

    let key = PseudonymKey::load_or_create(&paths.data_dir).unwrap();
    let options = karte::metrics::ReportOptions::from_config(&config, None);
    let report = load_report(&db_path, &options, &key).unwrap();
    assert_eq!(report.documents.len(), 1, "the signed document is measured");
    let row = &report.documents[0];
    assert_eq!(row.doc_type, "referral");
    assert_eq!(row.flags_raised, 2, "ワルファリン, ヘパリン once");
    assert_eq!(row.flags_fixed, 1, "ヘパリン deleted");
    assert_eq!(row.flags_acknowledged, 1);
    assert_eq!(row.keystrokes, 4 + 4 + 4 + 4 + 1);
    assert_eq!(row.chars_inserted, 4 + 4 + 5);
    assert_eq!(row.chars_deleted, 8);
    let edited = row.edited_share.expect("compared with the AI draft");
    assert!(edited > 0.0 && edited < 0.2, "{edited}");
    let retained = row.retained_share.expect("retained share");
    assert!(retained > 0.9, "{retained}");
}

/// A sentence the drafter copied from the chart (its provenance comes with the draft) is
/// supported by construction, even a drug the guard would flag as written by the model; once
/// the clinician edits inside it, it is the clinician's text and is checked again.
#[test]
fn copied_spans_are_supported_until_the_clinician_edits_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = Harness::new(dir.path(), 200, 50);
    let chart = h.app.selected_chart().unwrap().clone();
    let note = chart.notes[0].id.clone();
    let body = format!("{FAITHFUL}\n{INJECTED}");
    let start = FAITHFUL.chars().count() + 1;
    let source = Source::Note {
        id: note,
        start: 0,
        end: 8,
    };
    for event in [
        DraftEvent::Started {
            sections: vec![SectionStart {
                title: HEADING.into(),
                text: String::new(),
                generated: true,
            }],
        },
        DraftEvent::SectionDone {
            section: 0,
            text: Some(body.clone()),
        },
        DraftEvent::SectionProvenance {
            section: 0,
            spans: vec![(start..body.chars().count(), source.clone())],
        },
        DraftEvent::Finished,
    ] {
        h.act(Action::Draft {
            chart_id: chart.id.clone(),
            document: DocumentKind::Referral,
            event,
        });
    }
    let key = DocRef::new(chart.id.clone(), DocumentKind::Referral);
    let drug = |h: &Harness| {
        h.app.review.guards[&key]
            .report
            .as_ref()
            .unwrap()
            .items
            .iter()
            .find(|i| i.text == "ワルファリン")
            .cloned()
            .expect("the drug is checked")
    };
    let copied = drug(&h);
    assert_eq!(copied.verdict, Verdict::Supported);
    assert_eq!(copied.reason, karte::review::Reason::CopiedFromChart);
    assert_eq!(copied.sources, vec![source]);

    // Typing after the copied sentence leaves it copied.
    h.command(Command::EditDraft);
    assert!(h.app.is_editing(), "{}", h.status());
    h.act(Action::Edit(EditKey::Move {
        motion: karte::editor::Motion::DocumentEnd,
        extend: false,
    }));
    h.act(Action::Edit(EditKey::Type("追記".into())));
    assert_eq!(drug(&h).verdict, Verdict::Supported);
    // Deleting into it makes it the clinician's text: flagged again.
    for _ in 0..4 {
        if !h.editor_text().contains(INJECTED) {
            break;
        }
        h.act(Action::Edit(EditKey::DeleteBackward));
    }
    assert!(!h.editor_text().contains(INJECTED));
    assert_eq!(
        drug(&h).verdict,
        Verdict::Unsupported,
        "{}",
        h.editor_text()
    );
}
