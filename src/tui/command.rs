//! The things a user can ask for with a key. Each has a stable name (used in the config
//! file's `[keys]` table), a short label for the status bar and a description for the help.

/// A user command. Adding one: a variant here, a row in [`Command::ALL`], `name`, `label`,
/// `description`, a default key in `keymap::DEFAULT_KEYS`, and its handling in `update`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Command {
    Quit,
    ToggleHelp,
    FocusNext,
    FocusPrev,
    MoveDown,
    MoveUp,
    PageDown,
    PageUp,
    GoTop,
    GoBottom,
    Open,
    Back,
    NextTab,
    PrevTab,
    ShowNotes,
    ShowLabs,
    ShowPrescriptions,
    GenerateDraft,
    CancelDraft,
    ToggleHighlights,
    NextEntity,
    PrevEntity,
    ShowMetrics,
    Rescan,
    EditDraft,
    NewDocument,
    AcceptSection,
    RevertSection,
    RegenerateSection,
    TakeOverLock,
    ToggleGuardPanel,
    NextFlag,
    PrevFlag,
    JumpToSource,
    AcknowledgeFlag,
    Sign,
    Amend,
    ExportText,
    ExportFhir,
    /// The signed document as a printable A4 PDF letter.
    ExportPdf,
    CopyToClipboard,
    ToggleSummary,
}

impl Command {
    /// Every command, in the order the help lists them.
    pub const ALL: [Command; 42] = [
        Command::MoveDown,
        Command::MoveUp,
        Command::PageDown,
        Command::PageUp,
        Command::GoTop,
        Command::GoBottom,
        Command::FocusNext,
        Command::FocusPrev,
        Command::Open,
        Command::Back,
        Command::NextTab,
        Command::PrevTab,
        Command::ShowNotes,
        Command::ShowLabs,
        Command::ShowPrescriptions,
        Command::GenerateDraft,
        Command::CancelDraft,
        Command::ToggleHighlights,
        Command::NextEntity,
        Command::PrevEntity,
        Command::ShowMetrics,
        Command::Rescan,
        Command::ToggleHelp,
        Command::EditDraft,
        Command::NewDocument,
        Command::AcceptSection,
        Command::RevertSection,
        Command::RegenerateSection,
        Command::TakeOverLock,
        Command::ToggleGuardPanel,
        Command::NextFlag,
        Command::PrevFlag,
        Command::JumpToSource,
        Command::AcknowledgeFlag,
        Command::Sign,
        Command::Amend,
        Command::ExportText,
        Command::ExportFhir,
        Command::ExportPdf,
        Command::CopyToClipboard,
        Command::ToggleSummary,
        Command::Quit,
    ];

    /// The name used in the config file (`[keys] move_down = "j down"`).
    pub fn name(self) -> &'static str {
        match self {
            Command::Quit => "quit",
            Command::ToggleHelp => "help",
            Command::FocusNext => "focus_next",
            Command::FocusPrev => "focus_prev",
            Command::MoveDown => "move_down",
            Command::MoveUp => "move_up",
            Command::PageDown => "page_down",
            Command::PageUp => "page_up",
            Command::GoTop => "go_top",
            Command::GoBottom => "go_bottom",
            Command::Open => "open",
            Command::Back => "back",
            Command::NextTab => "next_tab",
            Command::PrevTab => "prev_tab",
            Command::ShowNotes => "show_notes",
            Command::ShowLabs => "show_labs",
            Command::ShowPrescriptions => "show_prescriptions",
            Command::GenerateDraft => "generate_draft",
            Command::CancelDraft => "cancel_draft",
            Command::ToggleHighlights => "toggle_highlights",
            Command::NextEntity => "next_entity",
            Command::PrevEntity => "prev_entity",
            Command::ShowMetrics => "metrics",
            Command::Rescan => "rescan",
            Command::EditDraft => "edit_draft",
            Command::NewDocument => "new_document",
            Command::AcceptSection => "accept_section",
            Command::RevertSection => "revert_section",
            Command::RegenerateSection => "regenerate_section",
            Command::TakeOverLock => "take_over_lock",
            Command::ToggleGuardPanel => "guard_panel",
            Command::NextFlag => "next_flag",
            Command::PrevFlag => "prev_flag",
            Command::JumpToSource => "jump_to_source",
            Command::AcknowledgeFlag => "acknowledge_flag",
            Command::Sign => "sign",
            Command::Amend => "amend",
            Command::ExportText => "export_text",
            Command::ExportFhir => "export_fhir",
            Command::ExportPdf => "export_pdf",
            Command::CopyToClipboard => "copy_clipboard",
            Command::ToggleSummary => "summary_panel",
        }
    }

    pub fn from_name(name: &str) -> Option<Command> {
        Command::ALL.into_iter().find(|c| c.name() == name)
    }

    /// A word or two for the status bar.
    pub fn label(self) -> &'static str {
        match self {
            Command::Quit => "終了",
            Command::ToggleHelp => "ヘルプ",
            Command::FocusNext => "ペイン",
            Command::FocusPrev => "前のペイン",
            Command::MoveDown | Command::MoveUp => "移動",
            Command::PageDown | Command::PageUp => "ページ",
            Command::GoTop => "先頭",
            Command::GoBottom => "末尾",
            Command::Open => "開く",
            Command::Back => "戻る",
            Command::NextTab | Command::PrevTab => "タブ",
            Command::ShowNotes => "経過",
            Command::ShowLabs => "検査",
            Command::ShowPrescriptions => "処方",
            Command::GenerateDraft => "下書き",
            Command::CancelDraft => "中止",
            Command::ToggleHighlights => "強調",
            Command::NextEntity | Command::PrevEntity => "所見",
            Command::ShowMetrics => "計測",
            Command::Rescan => "再読込",
            Command::EditDraft => "編集",
            Command::NewDocument => "空の様式",
            Command::AcceptSection => "承認",
            Command::RevertSection => "AI版に戻す",
            Command::RegenerateSection => "再生成",
            Command::TakeOverLock => "ロック引継ぎ",
            Command::ToggleGuardPanel => "照合",
            Command::NextFlag => "次の指摘",
            Command::PrevFlag => "前の指摘",
            Command::JumpToSource => "根拠",
            Command::AcknowledgeFlag => "確認",
            Command::Sign => "署名",
            Command::Amend => "修正版",
            Command::ExportText => "テキスト出力",
            Command::ExportFhir => "FHIR出力",
            Command::ExportPdf => "PDF出力",
            Command::CopyToClipboard => "コピー",
            Command::ToggleSummary => "要約",
        }
    }

    /// One line for the help overlay.
    pub fn description(self) -> &'static str {
        match self {
            Command::Quit => "終了する (ヘルプ表示中はヘルプを閉じる)",
            Command::ToggleHelp => "このヘルプを開く/閉じる",
            Command::FocusNext => "次のペインへ (キュー → カルテ → 下書き)",
            Command::FocusPrev => "前のペインへ",
            Command::MoveDown => "下へ (キュー: 次の患者 / カルテ・下書き: スクロール)",
            Command::MoveUp => "上へ (キュー: 前の患者 / カルテ・下書き: スクロール)",
            Command::PageDown => "1ページ下へ",
            Command::PageUp => "1ページ上へ",
            Command::GoTop => "先頭へ",
            Command::GoBottom => "末尾へ",
            Command::Open => "選択した患者のカルテを開く",
            Command::Back => "戻る / ヘルプを閉じる / 生成中なら中止",
            Command::NextTab => "カルテの次のタブ (経過記録 → 検査 → 処方・アレルギー)",
            Command::PrevTab => "カルテの前のタブ",
            Command::ShowNotes => "カルテ: 経過記録",
            Command::ShowLabs => "カルテ: 検査結果",
            Command::ShowPrescriptions => "カルテ: 処方・アレルギー・病名",
            Command::GenerateDraft => "選択した患者の下書きを生成",
            Command::CancelDraft => "生成中の下書きを中止",
            Command::ToggleHighlights => "病名・薬剤・検査値などの強調表示を切り替え",
            Command::NextEntity => "カルテの次の所見 (病名・薬剤・検査値…) へ",
            Command::PrevEntity => "カルテの前の所見へ",
            Command::ShowMetrics => "作成時間の計測結果 (Metrics) を開く/閉じる",
            Command::Rescan => "キューのフォルダを読み直す",
            Command::EditDraft => "下書きを編集する (編集中は esc で終了、キーは下の一覧)",
            Command::NewDocument => "空の様式から文書を書く (下書きがないとき)",
            Command::AcceptSection => "カーソルのあるセクションを確認済みにする (もう一度で取消)",
            Command::RevertSection => "カーソルのあるセクションを AI の下書きに戻す",
            Command::RegenerateSection => "カーソルのあるセクションをモデルで書き直す",
            Command::TakeOverLock => "応答のない編集者のロックを引き継ぐ",
            Command::ToggleGuardPanel => "根拠照合パネル (未確認・矛盾・省略の一覧) を開く/閉じる",
            Command::NextFlag => "下書きの次の未確認・矛盾へ移動",
            Command::PrevFlag => "下書きの前の未確認・矛盾へ移動",
            Command::JumpToSource => "カーソル位置の記載の根拠 (カルテの記録) を表示",
            Command::AcknowledgeFlag => "選択中の指摘を確認済みに (署名に必要、再度押すと取消)",
            Command::Sign => "文書に署名する (未確認の指摘が残っていると不可)",
            Command::Amend => "署名済みの文書の修正版 (新しい版) を作る",
            Command::ExportText => "署名済み文書をテキストで書き出す (データフォルダの exports/)",
            Command::ExportFhir => "署名済み文書を FHIR R4 JSON で書き出す (同 exports/)",
            Command::ExportPdf => "署名済み文書を印刷用 PDF (A4) で書き出す (同 exports/)",
            Command::CopyToClipboard => "署名済み文書をクリップボードへコピー (OSC 52)",
            Command::ToggleSummary => "カルテの要約 (病名・処方・異常値…) を開く/閉じる",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        let mut names: Vec<&str> = Command::ALL.iter().map(|c| c.name()).collect();
        for c in Command::ALL {
            assert_eq!(Command::from_name(c.name()), Some(c));
        }
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Command::ALL.len());
        assert_eq!(Command::from_name("nope"), None);
    }
}
