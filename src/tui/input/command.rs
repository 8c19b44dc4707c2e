//! The things a user can ask for with a key, as one table: each row of `commands!` gives a
//! command's variant, its stable name (the config file's `[keys]` table), its default keys,
//! the context the help lists it under, its description, and its status-bar hints. The enum,
//! [`Command::ALL`], the lookups, the default keymap (`keymap.rs`), the help overlay and the
//! status bar all come from these rows. Adding a command: one row here, its handling in
//! `update`.

/// Where a command is used: the groups of the help overlay (in [`CommandContext::ALL`]
/// order), and the status bar's contexts (every one but [`CommandContext::Global`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CommandContext {
    /// The help overlay itself.
    Help,
    /// The queue pane (the patient list).
    Queue,
    /// The chart pane.
    Chart,
    /// The draft pane without a document open in the editor.
    Draft,
    /// The draft pane with a document open in the editor (reviewing, signing).
    Review,
    /// The draft pane showing a signed document.
    Signed,
    /// The Metrics screen.
    Metrics,
    /// Everywhere (moving, focus, quitting).
    Global,
}

impl CommandContext {
    /// Every context, in the order the help lists them.
    pub const ALL: [CommandContext; 8] = [
        CommandContext::Help,
        CommandContext::Queue,
        CommandContext::Chart,
        CommandContext::Draft,
        CommandContext::Review,
        CommandContext::Signed,
        CommandContext::Metrics,
        CommandContext::Global,
    ];

    /// The help's name for the commands of this context (a word or two: it is a column).
    pub fn title(self) -> &'static str {
        match self {
            CommandContext::Help => "ヘルプ",
            CommandContext::Queue => "キュー",
            CommandContext::Chart => "カルテ",
            CommandContext::Draft => "下書き",
            CommandContext::Review => "確認・署名",
            CommandContext::Signed => "署名済み",
            CommandContext::Metrics => "計測",
            CommandContext::Global => "全体",
        }
    }
}

/// A command's place in one context's status bar: shown as its first key and `label`, left
/// to right by `rank`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hint {
    pub context: CommandContext,
    pub rank: u8,
    pub label: &'static str,
}

/// The command table's grammar, one row per command:
///
/// ```text
/// Variant "config_name" "default keys" HelpContext "help description"
///     [hints [StatusContext rank "label", …]] [with PartnerCommand];
/// ```
///
/// `with` shows the partner's first key next to this command's in its hints (`j/k 移動`).
macro_rules! commands {
    ($(
        $(#[doc = $doc:literal])*
        $variant:ident $name:literal $keys:literal $context:ident $description:literal
        $(hints [$($hint_context:ident $rank:literal $label:literal),* $(,)?])?
        $(with $partner:ident)?
        ;
    )*) => {
        const COUNT: usize = [$($name),*].len();

        /// A user command (one row of the table below).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Command {
            $($(#[doc = $doc])* $variant,)*
        }

        impl Command {
            /// Every command, in the table's order, which is the order the help lists them.
            pub const ALL: [Command; COUNT] = [$(Command::$variant),*];

            /// The name used in the config file (`[keys] move_down = "j down"`).
            pub fn name(self) -> &'static str {
                match self {
                    $(Command::$variant => $name,)*
                }
            }

            /// The built-in keys, in the config syntax (several separated by spaces).
            pub fn default_keys(self) -> &'static str {
                match self {
                    $(Command::$variant => $keys,)*
                }
            }

            /// The context the help lists the command under.
            pub fn context(self) -> CommandContext {
                match self {
                    $(Command::$variant => CommandContext::$context,)*
                }
            }

            /// One line for the help overlay.
            pub fn description(self) -> &'static str {
                match self {
                    $(Command::$variant => $description,)*
                }
            }

            /// Where the status bar offers the command, and with which label.
            pub fn hints(self) -> &'static [Hint] {
                match self {
                    $(Command::$variant => &[$($(
                        Hint { context: CommandContext::$hint_context, rank: $rank, label: $label },
                    )*)?],)*
                }
            }

            /// The command whose first key the status bar shows next to this one's.
            pub fn partner(self) -> Option<Command> {
                match self {
                    $(Command::$variant => None$(.or(Some(Command::$partner)))?,)*
                }
            }
        }
    };
}

// Variant "config name" "default keys" help-context "description"
//     hints [status-context rank "label", …] with partner;
commands! {
    // ヘルプ
    ToggleHelp "help" "? f1" Help "このヘルプを開く/閉じる"
        hints [Help 1 "閉じる", Metrics 2 "ヘルプ", Queue 5 "ヘルプ", Chart 5 "ヘルプ", Draft 7 "ヘルプ"];

    // キュー
    Open "open" "enter" Queue "選択した患者のカルテを開く"
        hints [Queue 2 "開く"];
    Rescan "rescan" "r ctrl-r" Queue "キューのフォルダを読み直す";

    // カルテ
    NextTab "next_tab" "] right" Chart "カルテの次のタブ (経過記録 → 検査 → 処方・アレルギー)"
        hints [Chart 2 "タブ", Draft 2 "文書", Signed 6 "文書"];
    PrevTab "prev_tab" "[ left" Chart "カルテの前のタブ";
    ShowNotes "show_notes" "1" Chart "カルテ: 経過記録";
    ShowLabs "show_labs" "2" Chart "カルテ: 検査結果";
    ShowPrescriptions "show_prescriptions" "3" Chart "カルテ: 処方・アレルギー・病名";
    ToggleHighlights "toggle_highlights" "h" Chart "病名・薬剤・検査値などの強調表示を切り替え";
    NextEntity "next_entity" "." Chart "カルテの次の所見 (病名・薬剤・検査値…) へ";
    PrevEntity "prev_entity" "," Chart "カルテの前の所見へ";
    ToggleSummary "summary_panel" "S" Chart "カルテの要約 (病名・処方・異常値…) を開く/閉じる";

    // 下書き
    GenerateDraft "generate_draft" "d" Draft "選択した患者の下書きを生成"
        hints [Queue 4 "下書き", Draft 3 "生成"];
    CancelDraft "cancel_draft" "x" Draft "生成中の下書きを中止";
    NewDocument "new_document" "n" Draft "空の様式から文書を書く (下書きがないとき)"
        hints [Draft 4 "空の様式"];
    EditDraft "edit_draft" "i e" Draft "下書きを編集する (編集中は esc で終了、キーは下の一覧)"
        hints [Draft 5 "編集", Review 1 "編集"];
    TakeOverLock "take_over_lock" "T" Draft "応答のない編集者のロックを引き継ぐ";

    // 確認・署名 (文書を開いているとき)
    NextFlag "next_flag" "f" Review "下書きの次の未確認・矛盾へ移動"
        hints [Review 2 "指摘"];
    PrevFlag "prev_flag" "F" Review "下書きの前の未確認・矛盾へ移動";
    AcknowledgeFlag "acknowledge_flag" "c" Review "選択中の指摘を確認済みに (署名に必要、再度押すと取消)"
        hints [Review 3 "確認"];
    Sign "sign" "s" Review "文書に署名する (未確認の指摘が残っていると不可)"
        hints [Review 4 "署名"];
    ToggleGuardPanel "guard_panel" "p" Review "根拠照合パネル (未確認・矛盾・省略の一覧) を開く/閉じる"
        hints [Review 5 "照合"];
    JumpToSource "jump_to_source" "o" Review "カーソル位置の記載の根拠 (カルテの記録) を表示";
    ShowEvidence "show_evidence" "v" Review "カーソルの文の根拠 (記録・日付) を表示";
    AcceptSection "accept_section" "a" Review "カーソルのあるセクションを確認済みにする (もう一度で取消)"
        hints [Review 6 "確認済"];
    RevertSection "revert_section" "u" Review "カーソルのあるセクションを AI の下書きに戻す"
        hints [Review 7 "AI版に戻す"];
    RegenerateSection "regenerate_section" "R" Review "カーソルのあるセクションをモデルで書き直す"
        hints [Review 8 "再生成"];
    CycleSectionMode "cycle_section_mode" "M" Review "セクションの作成方式を切り替えて書き直す";

    // 署名済みの文書
    ExportText "export_text" "E" Signed "署名済み文書をテキストで書き出す (データフォルダの exports/)"
        hints [Signed 1 "テキスト出力"];
    ExportFhir "export_fhir" "X" Signed "署名済み文書を FHIR R4 JSON で書き出す (同 exports/)"
        hints [Signed 2 "FHIR出力"];
    /// The signed document as a printable A4 PDF letter.
    ExportPdf "export_pdf" "P" Signed "署名済み文書を印刷用 PDF (A4) で書き出す (同 exports/)"
        hints [Signed 3 "PDF出力"];
    CopyToClipboard "copy_clipboard" "y" Signed "署名済み文書をクリップボードへコピー (OSC 52)"
        hints [Signed 4 "コピー"];
    Amend "amend" "A" Signed "署名済みの文書の修正版 (新しい版) を作る"
        hints [Signed 5 "修正版"];

    // 計測
    ShowMetrics "metrics" "m" Metrics "作成時間の計測結果 (Metrics) を開く/閉じる"
        hints [Metrics 1 "閉じる"];

    // 全体 (移動・ペイン・終了)
    MoveDown "move_down" "j down" Global "下へ (キュー: 次の患者 / カルテ・下書き: スクロール)"
        hints [Help 2 "スクロール", Queue 1 "移動", Chart 1 "スクロール", Draft 1 "スクロール", Review 9 "スクロール"]
        with MoveUp;
    MoveUp "move_up" "k up" Global "上へ (キュー: 前の患者 / カルテ・下書き: スクロール)";
    PageDown "page_down" "pagedown ctrl-d" Global "1ページ下へ";
    PageUp "page_up" "pageup ctrl-u" Global "1ページ上へ";
    GoTop "go_top" "g home" Global "先頭へ";
    GoBottom "go_bottom" "G end" Global "末尾へ";
    FocusNext "focus_next" "tab" Global "次のペインへ (キュー → カルテ → 下書き)"
        hints [Queue 3 "ペイン", Chart 3 "ペイン"];
    FocusPrev "focus_prev" "shift-tab" Global "前のペインへ";
    Back "back" "esc" Global "戻る / ヘルプを閉じる / 生成中なら中止"
        hints [Chart 4 "キュー", Draft 6 "キュー", Review 10 "キュー", Signed 7 "キュー"];
    Quit "quit" "q ctrl-c" Global "終了する (ヘルプ表示中はヘルプを閉じる)"
        hints [Metrics 3 "終了", Queue 6 "終了", Chart 6 "終了", Draft 8 "終了", Review 11 "終了", Signed 8 "終了"];
}

/// The help's groups: each context (in [`CommandContext::ALL`] order) with its commands.
pub fn help_groups() -> Vec<(CommandContext, Vec<Command>)> {
    CommandContext::ALL
        .into_iter()
        .map(|context| {
            let commands = Command::ALL
                .into_iter()
                .filter(|c| c.context() == context)
                .collect();
            (context, commands)
        })
        .filter(|(_, commands): &(CommandContext, Vec<Command>)| !commands.is_empty())
        .collect()
}

/// The status bar's hints in `context`, left to right: each command with its label.
pub fn status_hints(context: CommandContext) -> Vec<(Command, &'static str)> {
    let mut hints: Vec<(u8, Command, &'static str)> = Command::ALL
        .into_iter()
        .flat_map(|command| {
            command
                .hints()
                .iter()
                .filter(move |h| h.context == context)
                .map(move |h| (h.rank, command, h.label))
        })
        .collect();
    hints.sort_by_key(|(rank, _, _)| *rank);
    hints
        .into_iter()
        .map(|(_, command, label)| (command, label))
        .collect()
}

impl Command {
    pub fn from_name(name: &str) -> Option<Command> {
        Command::ALL.into_iter().find(|c| c.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::input::keymap::Key;
    use std::collections::{BTreeSet, HashMap};

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

    /// The keymap is one for every context, so a default key must name one command only.
    #[test]
    fn every_default_key_parses_and_belongs_to_one_command() {
        let mut owner: HashMap<Key, Command> = HashMap::new();
        for command in Command::ALL {
            let keys: Vec<&str> = command.default_keys().split_whitespace().collect();
            assert!(!keys.is_empty(), "{} has no default key", command.name());
            for text in keys {
                let key = Key::parse(text)
                    .unwrap_or_else(|| panic!("{}: \"{text}\" is not a key", command.name()));
                if let Some(first) = owner.insert(key, command) {
                    panic!("{text} is a default of both {first:?} and {command:?}");
                }
            }
        }
    }

    #[test]
    fn the_help_lists_every_command_once_in_table_order() {
        let listed: Vec<Command> = help_groups()
            .into_iter()
            .flat_map(|(_, commands)| commands)
            .collect();
        assert_eq!(listed, Command::ALL.to_vec());
        for (context, _) in help_groups() {
            assert!(!context.title().is_empty());
        }
    }

    #[test]
    fn status_hints_have_one_place_each_per_context() {
        for context in CommandContext::ALL {
            let mut ranks = BTreeSet::new();
            for command in Command::ALL {
                for hint in command.hints().iter().filter(|h| h.context == context) {
                    assert!(
                        ranks.insert(hint.rank),
                        "{context:?}: rank {} given twice ({command:?})",
                        hint.rank
                    );
                    assert!(!hint.label.is_empty());
                }
            }
        }
        assert!(
            status_hints(CommandContext::Global).is_empty(),
            "no such status bar"
        );
        // The labels differ by context where the command does something different there.
        assert_eq!(
            status_hints(CommandContext::Queue)[0],
            (Command::MoveDown, "移動")
        );
        assert_eq!(
            status_hints(CommandContext::Chart)[0],
            (Command::MoveDown, "スクロール")
        );
        assert_eq!(Command::MoveDown.partner(), Some(Command::MoveUp));
        assert_eq!(Command::Quit.partner(), None);
    }
}
