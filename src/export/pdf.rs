//! The signed document as a printable A4 PDF letter: the 診療情報提供書 in the layout of
//! 別紙様式11 (宛先 … 先生 / 殿, date, 紹介元 facility / address / phone / doctor, patient name,
//! sex, birth date, age, then 傷病名, 紹介目的, 既往歴及び家族歴, 症状経過・検査結果・治療経過,
//! 現在の処方, 備考 …), the 退院時サマリー in its sections; every page's footer carries the
//! version and the SHA-256 of the signed content.
//!
//! Built on `pdf-writer` (objects), `ttf-parser` (metrics) and `subsetter` (the embedded font
//! holds only the glyphs used): the crates typst itself writes PDFs with, without typst's
//! compiler. The font is a Japanese TrueType font from a Debian package (IPAex Gothic,
//! `fonts-ipaexfont-gothic`, installed by `scripts/setup-system.sh`), found at run time.
//! Lines are wrapped by the glyphs' widths (with 禁則: no line starts with 。、）」 …);
//! a page break never splits a line, and a heading never ends a page. A character the font
//! lacks is printed as 〓 and reported (never a broken file).

use super::hospital::Hospital;
use super::text::{japanese_date, jst};
use crate::chart::{Chart, ReferralTarget, Sex};
use crate::store::{DocKind, SignedDocument};
use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Environment variable naming a TrueType font file to use instead of the packaged ones.
pub const FONT_ENV: &str = "KARTE_PDF_FONT";

/// Where Debian's Japanese TrueType fonts are installed (first found wins).
pub const FONT_CANDIDATES: &[&str] = &[
    "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf",
    "/usr/share/fonts/truetype/fonts-japanese-gothic.ttf",
    "/usr/share/fonts/opentype/ipaexfont-mincho/ipaexm.ttf",
    "/usr/share/fonts/truetype/fonts-japanese-mincho.ttf",
    "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf",
    "/usr/share/fonts/truetype/takao-gothic/TakaoGothic.ttf",
];

/// A second font for the characters the first lacks (IPAmj 明朝: 𠮷 and the other 人名 variants
/// of 文字情報基盤, `fonts-ipamj-mincho`); optional.
pub const FALLBACK_CANDIDATES: &[&str] = &["/usr/share/fonts/truetype/ipamj/ipamjm.ttf"];

/// Printed in place of a character the font cannot show.
pub const REPLACEMENT: char = '〓';

const PAGE_WIDTH: f32 = 595.28;
const PAGE_HEIGHT: f32 = 841.89;
const MARGIN: f32 = 56.7; // 20 mm
const FOOTER_Y: f32 = 28.0;
const BODY_SIZE: f32 = 10.5;
const LEADING: f32 = 1.55;

#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error("PDF 用の日本語フォントが見つかりません（探した場所: {}）: `sudo apt-get install fonts-ipaexfont-gothic`（scripts/setup-system.sh が入れます）でインストールするか、{FONT_ENV} に TrueType フォントのパスを指定してください", .0.join(", "))]
    NoFont(Vec<String>),
    #[error("フォント {path} を使えません: {why}（{FONT_ENV} で別のフォントを指定してください）")]
    BadFont { path: PathBuf, why: String },
    #[error("宛先（紹介先）が空です: 【宛先】に医療機関名を書き、修正版（A）として署名してから印刷してください")]
    EmptyAddressee,
}

/// The PDF and what a reader should know about it.
#[derive(Debug, Clone)]
pub struct LetterPdf {
    pub bytes: Vec<u8>,
    pub pages: usize,
    /// Characters the font lacks, printed as 〓 (in order of first use).
    pub replaced: Vec<char>,
}

/// The font to use: `$KARTE_PDF_FONT`, else the first installed candidate.
pub fn find_font() -> Result<PathBuf, PdfError> {
    if let Some(path) = std::env::var_os(FONT_ENV).filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(PdfError::BadFont {
                path,
                why: format!("{FONT_ENV} のファイルがありません"),
            })
        };
    }
    FONT_CANDIDATES
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .ok_or_else(|| PdfError::NoFont(FONT_CANDIDATES.iter().map(|s| s.to_string()).collect()))
}

struct Font<'a> {
    face: ttf_parser::Face<'a>,
    scale: f32,
}

impl<'a> Font<'a> {
    fn load(data: &'a [u8], path: &Path) -> Result<Self, PdfError> {
        let face = ttf_parser::Face::parse(data, 0).map_err(|e| PdfError::BadFont {
            path: path.to_path_buf(),
            why: e.to_string(),
        })?;
        if face.tables().glyf.is_none() {
            return Err(PdfError::BadFont {
                path: path.to_path_buf(),
                why: "TrueType (glyf) のフォントではありません".into(),
            });
        }
        if face.glyph_index('あ').is_none() || face.glyph_index(REPLACEMENT).is_none() {
            return Err(PdfError::BadFont {
                path: path.to_path_buf(),
                why: "日本語の文字がありません".into(),
            });
        }
        let scale = 1000.0 / f32::from(face.units_per_em());
        Ok(Font { face, scale })
    }

    /// Advance of glyph `g` in 1/1000 em.
    fn advance(&self, g: u16) -> f32 {
        self.face
            .glyph_hor_advance(ttf_parser::GlyphId(g))
            .map(|a| f32::from(a) * self.scale)
            .unwrap_or(1000.0)
    }
}

/// The fonts, first the main one: a character is taken from the first that has it.
struct Fonts<'a> {
    list: Vec<Font<'a>>,
}

impl Fonts<'_> {
    /// The font and glyph of `c` (the main font's 〓 when none has it) and whether it was
    /// replaced.
    fn glyph(&self, c: char) -> (usize, u16, bool) {
        for (i, font) in self.list.iter().enumerate() {
            if let Some(g) = font.face.glyph_index(c).filter(|g| g.0 != 0) {
                return (i, g.0, false);
            }
        }
        let replacement = self.list[0]
            .face
            .glyph_index(REPLACEMENT)
            .map(|g| g.0)
            .unwrap_or(0);
        (0, replacement, true)
    }

    fn width(&self, text: &str, size: f32) -> f32 {
        text.chars()
            .map(|c| {
                let (font, glyph, _) = self.glyph(c);
                self.list[font].advance(glyph)
            })
            .sum::<f32>()
            * size
            / 1000.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Align {
    Left,
    Center,
    Right,
}

/// A paragraph before wrapping.
struct Block {
    text: String,
    size: f32,
    indent: f32,
    align: Align,
    space_before: f32,
    /// A heading: never the last thing on a page.
    keep_with_next: bool,
}

impl Block {
    fn body(text: impl Into<String>) -> Self {
        Block {
            text: text.into(),
            size: BODY_SIZE,
            indent: 0.0,
            align: Align::Left,
            space_before: 0.0,
            keep_with_next: false,
        }
    }
    fn size(mut self, size: f32) -> Self {
        self.size = size;
        self
    }
    fn indent(mut self, indent: f32) -> Self {
        self.indent = indent;
        self
    }
    fn align(mut self, align: Align) -> Self {
        self.align = align;
        self
    }
    fn space(mut self, before: f32) -> Self {
        self.space_before = before;
        self
    }
    fn heading(mut self) -> Self {
        self.keep_with_next = true;
        self
    }
}

/// A laid-out line.
struct Line {
    x: f32,
    y: f32,
    size: f32,
    text: String,
}

/// Characters that may not start a line (行頭禁則).
fn no_line_start(c: char) -> bool {
    "、。，．,.)）]］」』】〕〉》！？!?ー―…‥・：；:;ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ々〻%％".contains(c)
}

/// Characters that may not end a line (行末禁則).
fn no_line_end(c: char) -> bool {
    "(（[［「『【〔〈《".contains(c)
}

/// Wraps one paragraph (no line breaks in it) into lines no wider than `width`.
fn wrap(font: &Fonts, text: &str, size: f32, width: f32) -> Vec<String> {
    // Tokens: a run of ASCII letters/digits (not broken unless longer than a line), or one char.
    let mut tokens: Vec<String> = Vec::new();
    for c in text.chars() {
        let ascii_word = c.is_ascii_alphanumeric();
        match tokens.last_mut() {
            Some(last)
                if ascii_word
                    && last
                        .chars()
                        .last()
                        .is_some_and(|p| p.is_ascii_alphanumeric()) =>
            {
                last.push(c)
            }
            _ => tokens.push(c.to_string()),
        }
    }
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut line_width = 0.0;
    for token in tokens {
        let w = font.width(&token, size);
        let first = token.chars().next().unwrap_or(' ');
        let fits = line_width + w <= width;
        let hang = no_line_start(first) && token.chars().count() == 1 && !line.is_empty();
        if fits || hang || line.is_empty() && w <= width {
            line.push_str(&token);
            line_width += w;
            continue;
        }
        if w > width {
            // A word longer than a line: broken by characters.
            for c in token.chars() {
                let cw = font.width(&c.to_string(), size);
                if line_width + cw > width && !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                    line_width = 0.0;
                }
                line.push(c);
                line_width += cw;
            }
            continue;
        }
        // Move an opening bracket at the end of the line to the next one.
        let mut carry = String::new();
        while line.chars().last().is_some_and(no_line_end) && line.chars().count() > 1 {
            if let Some(c) = line.pop() {
                carry.insert(0, c);
            }
        }
        let trimmed = line.trim_end().to_string();
        lines.push(trimmed);
        line = carry;
        line.push_str(token.trim_start());
        line_width = font.width(&line, size);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line.trim_end().to_string());
    }
    lines
}

/// Printable text: no control characters (tabs become spaces).
fn printable(text: &str) -> String {
    text.chars()
        .filter_map(|c| match c {
            '\t' => Some(' '),
            '\n' => Some('\n'),
            c if c.is_control() => None,
            c => Some(c),
        })
        .collect()
}

/// Lays the blocks out on pages.
fn paginate(font: &Fonts, blocks: &[Block]) -> Vec<Vec<Line>> {
    let width = PAGE_WIDTH - 2.0 * MARGIN;
    let top = PAGE_HEIGHT - MARGIN;
    let bottom = MARGIN;
    let mut pages: Vec<Vec<Line>> = vec![Vec::new()];
    let mut y = top;
    for (i, block) in blocks.iter().enumerate() {
        let line_height = block.size * LEADING;
        let avail = width - block.indent;
        let mut lines = Vec::new();
        for paragraph in printable(&block.text).split('\n') {
            lines.extend(wrap(font, paragraph, block.size, avail));
        }
        // A heading needs room for itself and the next block's first line.
        let next_height = blocks
            .get(i + 1)
            .filter(|_| block.keep_with_next)
            .map(|n| n.space_before + n.size * LEADING)
            .unwrap_or(0.0);
        let first_height = block.space_before + line_height + next_height;
        if y - first_height < bottom && !pages.last().is_some_and(Vec::is_empty) {
            pages.push(Vec::new());
            y = top;
        } else if y < top {
            y -= block.space_before;
        }
        for text in lines {
            if y - line_height < bottom {
                pages.push(Vec::new());
                y = top;
            }
            y -= line_height;
            let w = font.width(&text, block.size);
            let x = match block.align {
                Align::Left => MARGIN + block.indent,
                Align::Center => (PAGE_WIDTH - w) / 2.0,
                Align::Right => PAGE_WIDTH - MARGIN - w,
            };
            if let Some(page) = pages.last_mut() {
                page.push(Line {
                    x,
                    y: y + (line_height - block.size) / 2.0,
                    size: block.size,
                    text,
                });
            }
        }
    }
    pages
}

/// The order of 別紙様式11 for the referral's sections (others keep their place after).
fn referral_rank(key: &str, heading: &str) -> usize {
    let k = key.to_ascii_lowercase();
    let ranks: [(&[&str], &[&str]); 8] = [
        (&["diagnos", "problem"], &["傷病名", "病名"]),
        (&["purpose", "reason"], &["紹介目的"]),
        (&["history", "past", "family"], &["既往歴", "家族歴"]),
        (&["course", "present"], &["経過", "現病歴"]),
        (&["lab", "test", "result"], &["検査"]),
        (&["prescription", "medication"], &["処方"]),
        (&["allerg"], &["アレルギー"]),
        (&["remark"], &["備考"]),
    ];
    ranks
        .iter()
        .position(|(keys, headings)| {
            keys.iter().any(|x| k.contains(x)) || headings.iter().any(|h| heading.contains(h))
        })
        .unwrap_or(ranks.len())
}

fn section_heading(key: &str, heading: &str) -> String {
    if heading.trim().is_empty() {
        key.to_string()
    } else {
        heading.trim().to_string()
    }
}

/// The letter's blocks.
fn blocks(
    signed: &SignedDocument,
    chart: &Chart,
    hospital: &Hospital,
) -> Result<Vec<Block>, PdfError> {
    let signed_local = jst(&signed.signed_at);
    let title = if signed.title.trim().is_empty() {
        signed.doc.japanese_title().to_string()
    } else {
        signed.title.trim().to_string()
    };
    let mut out = vec![
        Block::body(title).size(18.0).align(Align::Center),
        Block::body(japanese_date(signed_local.date_naive()))
            .align(Align::Right)
            .space(6.0),
    ];
    let half = (PAGE_WIDTH - 2.0 * MARGIN) * 0.45;
    let department = chart.encounter.department.trim();
    let from = |out: &mut Vec<Block>, label: &str| {
        out.push(Block::body(label).size(9.0).indent(half).space(10.0));
        let address = match &hospital.postal_code {
            Some(p) => format!("〒{p} {}", hospital.address),
            None => hospital.address.clone(),
        };
        out.push(Block::body(address).indent(half));
        out.push(Block::body(format!("電話 {}", hospital.phone)).indent(half));
        out.push(Block::body(hospital.name.clone()).indent(half).size(12.0));
        if !department.is_empty() {
            out.push(Block::body(department.to_string()).indent(half));
        }
        out.push(Block::body(format!("医師氏名 {}", signed.signer.trim())).indent(half));
    };
    let has = |key: &str| {
        signed
            .sections
            .iter()
            .any(|s| s.key == key && !s.text.trim().is_empty())
    };
    match signed.doc {
        DocKind::Referral => {
            let addressee_text = signed
                .sections
                .iter()
                .find(|s| s.key == "addressee")
                .map(|s| s.text.as_str());
            let to = match addressee_text {
                Some(text) => ReferralTarget::parse(text),
                None => chart.referral.clone().unwrap_or_default(),
            };
            if to.facility.trim().is_empty() {
                return Err(PdfError::EmptyAddressee);
            }
            out.push(
                Block::body(to.facility.trim().to_string())
                    .size(13.0)
                    .space(4.0),
            );
            let doctor = to.doctor.trim();
            let dept = to.department.trim();
            let line = match (dept.is_empty(), doctor.is_empty()) {
                (_, false) => format!("{dept} {doctor} 先生 御侍史"),
                (false, true) => format!("{dept} 担当医 殿"),
                (true, true) => "担当医 殿".to_string(),
            };
            out.push(Block::body(line.trim_start().to_string()).size(12.0));
            from(&mut out, "紹介元医療機関の所在地及び名称");
        }
        DocKind::Discharge => {
            from(&mut out, "作成医療機関");
        }
    }
    // The patient: the signed 患者情報 section when there is one, else the chart.
    out.push(Block::body("患者").size(9.0).space(12.0).heading());
    if has("patient") {
        if let Some(s) = signed.sections.iter().find(|s| s.key == "patient") {
            out.push(Block::body(s.text.trim_end().to_string()).indent(10.0));
        }
    } else {
        let p = &chart.patient;
        let kana = if p.kana.trim().is_empty() {
            String::new()
        } else {
            format!("（{}）", p.kana.trim())
        };
        let sex = match p.sex {
            Sex::Unknown => "記載なし",
            s => s.japanese(),
        };
        out.push(Block::body(format!("氏名 {}{kana} 様  性別 {sex}", p.name.trim())).indent(10.0));
        let on = match signed.doc {
            DocKind::Referral => Some(signed_local.date_naive()),
            DocKind::Discharge => chart.encounter.admission_date,
        };
        let birth = match p.birth_date {
            Some(b) => {
                let age = on
                    .and_then(|d| chart.age_on(d))
                    .map(|a| format!("（{a}歳）"))
                    .unwrap_or_default();
                format!("生年月日 {}{age}", japanese_date(b))
            }
            None => "生年月日 記載なし".to_string(),
        };
        out.push(Block::body(birth).indent(10.0));
    }
    if signed.doc == DocKind::Discharge && !has("admission") {
        let e = &chart.encounter;
        let mut stay = Vec::new();
        if let Some(a) = e.admission_date {
            stay.push(format!("入院日 {}", japanese_date(a)));
        }
        if let Some(d) = e.discharge_date {
            stay.push(format!("退院日 {}", japanese_date(d)));
        }
        if !stay.is_empty() {
            out.push(Block::body(stay.join("  ")).indent(10.0));
        }
    }

    let mut sections: Vec<(usize, usize, &crate::store::SectionText)> = signed
        .sections
        .iter()
        .enumerate()
        .filter(|(_, s)| s.key != "addressee" && s.key != "patient")
        .map(|(i, s)| {
            let rank = match signed.doc {
                DocKind::Referral => referral_rank(&s.key, &s.heading),
                DocKind::Discharge => 0,
            };
            (rank, i, s)
        })
        .collect();
    sections.sort_by_key(|(rank, i, _)| (*rank, *i));
    for (_, _, s) in sections {
        out.push(
            Block::body(format!("■ {}", section_heading(&s.key, &s.heading)))
                .size(11.5)
                .space(10.0)
                .heading(),
        );
        let body = if s.text.trim().is_empty() {
            "特記事項なし".to_string()
        } else {
            s.text.trim_end().to_string()
        };
        out.push(Block::body(body).indent(10.0).space(2.0));
    }
    Ok(out)
}

/// The footer of page `page` of `pages`.
pub fn footer(signed: &SignedDocument, page: usize, pages: usize) -> String {
    format!(
        "karte {} / 第{}版 / SHA-256 {} / {page}/{pages}",
        env!("CARGO_PKG_VERSION"),
        signed.version,
        signed.content_sha256
    )
}

/// The fallback font, when one is installed.
pub fn find_fallback_font() -> Option<PathBuf> {
    FALLBACK_CANDIDATES
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

/// One embedded font: its glyphs in use (renumbered), their characters.
struct Embedded {
    remapper: subsetter::GlyphRemapper,
    to_unicode: BTreeMap<u16, char>,
}

/// The A4 PDF of a signed document (the fallback font, when installed, for what the main
/// font lacks).
pub fn letter_pdf(
    signed: &SignedDocument,
    chart: &Chart,
    hospital: &Hospital,
    font_path: &Path,
) -> Result<LetterPdf, PdfError> {
    let read = |path: &Path| {
        std::fs::read(path).map_err(|e| PdfError::BadFont {
            path: path.to_path_buf(),
            why: e.to_string(),
        })
    };
    let main_data = read(font_path)?;
    let fallback = find_fallback_font().filter(|p| p != font_path);
    let fallback_data = match &fallback {
        Some(path) => Some((path.clone(), read(path)?)),
        None => None,
    };
    let mut list = vec![Font::load(&main_data, font_path)?];
    if let Some((path, data)) = &fallback_data {
        // A broken fallback is left out: the main font still prints the letter.
        if let Ok(font) = Font::load(data, path) {
            list.push(font);
        }
    }
    let fonts = Fonts { list };
    let datas: Vec<(&Path, &[u8])> = std::iter::once((font_path, main_data.as_slice()))
        .chain(
            fallback_data
                .iter()
                .map(|(p, d)| (p.as_path(), d.as_slice())),
        )
        .take(fonts.list.len())
        .collect();

    let blocks = blocks(signed, chart, hospital)?;
    let mut pages = paginate(&fonts, &blocks);
    let count = pages.len();
    for (i, page) in pages.iter_mut().enumerate() {
        let text = footer(signed, i + 1, count);
        let w = fonts.width(&text, 7.0);
        page.push(Line {
            x: (PAGE_WIDTH - w) / 2.0,
            y: FOOTER_Y,
            size: 7.0,
            text,
        });
    }

    // Glyphs used → each font's subset glyph ids (the CIDs written), characters, runs.
    let mut embedded: Vec<Embedded> = fonts
        .list
        .iter()
        .map(|_| Embedded {
            remapper: subsetter::GlyphRemapper::new(),
            to_unicode: BTreeMap::new(),
        })
        .collect();
    let mut replaced: Vec<char> = Vec::new();
    /// A run of one font's CIDs; a line: x, y, size, runs.
    type Run = (usize, Vec<u8>);
    type EncodedLine = (f32, f32, f32, Vec<Run>);
    let mut encoded_pages: Vec<Vec<EncodedLine>> = Vec::new();
    for page in &pages {
        let mut encoded = Vec::new();
        for line in page {
            let mut runs: Vec<Run> = Vec::new();
            for c in line.text.chars() {
                let (font, glyph, missing) = fonts.glyph(c);
                if missing && !replaced.contains(&c) {
                    replaced.push(c);
                }
                let e = &mut embedded[font];
                let cid = e.remapper.remap(glyph);
                e.to_unicode
                    .entry(cid)
                    .or_insert(if missing { REPLACEMENT } else { c });
                match runs.last_mut() {
                    Some((f, bytes)) if *f == font => bytes.extend_from_slice(&cid.to_be_bytes()),
                    _ => runs.push((font, cid.to_be_bytes().to_vec())),
                }
            }
            encoded.push((line.x, line.y, line.size, runs));
        }
        encoded_pages.push(encoded);
    }

    let mut next = 1;
    let mut alloc = || {
        let r = Ref::new(next);
        next += 1;
        r
    };
    let catalog = alloc();
    let tree = alloc();
    let info = alloc();
    let font_refs: Vec<Ref> = fonts.list.iter().map(|_| alloc()).collect();
    let page_refs: Vec<(Ref, Ref)> = (0..encoded_pages.len())
        .map(|_| (alloc(), alloc()))
        .collect();
    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids(page_refs.iter().map(|(p, _)| *p))
        .count(page_refs.len() as i32);
    let title = if signed.title.trim().is_empty() {
        signed.doc.japanese_title()
    } else {
        signed.title.trim()
    };
    pdf.document_info(info)
        .title(TextStr(title))
        .producer(TextStr(&format!("karte {}", env!("CARGO_PKG_VERSION"))));

    let names: Vec<String> = (1..=fonts.list.len()).map(|i| format!("F{i}")).collect();
    for (i, ((font, e), type0)) in fonts.list.iter().zip(&embedded).zip(&font_refs).enumerate() {
        let (cid_font, descriptor, font_file, cmap_ref) = (alloc(), alloc(), alloc(), alloc());
        let subset =
            subsetter::subset(datas[i].1, 0, &e.remapper).map_err(|err| PdfError::BadFont {
                path: datas[i].0.to_path_buf(),
                why: format!("サブセットを作れません: {err}"),
            })?;
        let widths: Vec<f32> = e
            .remapper
            .remapped_gids()
            .map(|old| font.advance(old))
            .collect();
        let tag = ["KARTEA", "KARTEB", "KARTEC"]
            .get(i)
            .copied()
            .unwrap_or("KARTEZ");
        let base = format!(
            "{tag}+{}",
            font.face
                .names()
                .into_iter()
                .find(|n| n.name_id == ttf_parser::name_id::POST_SCRIPT_NAME && n.is_unicode())
                .and_then(|n| n.to_string())
                .unwrap_or_else(|| "Japanese".into())
                .replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "")
        );
        pdf.type0_font(*type0)
            .base_font(Name(base.as_bytes()))
            .encoding_predefined(Name(b"Identity-H"))
            .descendant_font(cid_font)
            .to_unicode(cmap_ref);
        let system_info = SystemInfo {
            registry: Str(b"Adobe"),
            ordering: Str(b"Identity"),
            supplement: 0,
        };
        let mut cid = pdf.cid_font(cid_font);
        cid.subtype(CidFontType::Type2)
            .base_font(Name(base.as_bytes()))
            .system_info(system_info)
            .font_descriptor(descriptor)
            .default_width(1000.0)
            .cid_to_gid_map_predefined(Name(b"Identity"));
        cid.widths().consecutive(0, widths.iter().copied());
        cid.finish();
        let bbox = font.face.global_bounding_box();
        let k = font.scale;
        pdf.font_descriptor(descriptor)
            .name(Name(base.as_bytes()))
            .flags(FontFlags::SYMBOLIC)
            .bbox(Rect::new(
                f32::from(bbox.x_min) * k,
                f32::from(bbox.y_min) * k,
                f32::from(bbox.x_max) * k,
                f32::from(bbox.y_max) * k,
            ))
            .italic_angle(0.0)
            .ascent(f32::from(font.face.ascender()) * k)
            .descent(f32::from(font.face.descender()) * k)
            .cap_height(f32::from(font.face.capital_height().unwrap_or(font.face.ascender())) * k)
            .stem_v(80.0)
            .font_file2(font_file);
        let compressed = miniz_oxide::deflate::compress_to_vec_zlib(&subset, 6);
        pdf.stream(font_file, &compressed)
            .filter(Filter::FlateDecode)
            .pair(Name(b"Length1"), subset.len() as i32);
        let mut cmap = UnicodeCmap::new(Name(b"Karte-UTF16"), system_info);
        for (cid, c) in &e.to_unicode {
            cmap.pair(*cid, *c);
        }
        pdf.cmap(cmap_ref, &cmap.finish());
    }

    for ((page_ref, content_ref), lines) in page_refs.iter().zip(&encoded_pages) {
        let mut page = pdf.page(*page_ref);
        page.media_box(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT))
            .parent(tree)
            .contents(*content_ref);
        let mut resources = page.resources();
        let mut font_dict = resources.fonts();
        for (name, r) in names.iter().zip(&font_refs) {
            font_dict.pair(Name(name.as_bytes()), *r);
        }
        font_dict.finish();
        resources.finish();
        page.finish();
        let mut content = Content::new();
        for (x, y, size, runs) in lines {
            content.begin_text().next_line(*x, *y);
            for (font, bytes) in runs {
                content
                    .set_font(Name(names[*font].as_bytes()), *size)
                    .show(Str(bytes));
            }
            content.end_text();
        }
        let raw = content.finish();
        let packed = miniz_oxide::deflate::compress_to_vec_zlib(&raw, 6);
        pdf.stream(*content_ref, &packed)
            .filter(Filter::FlateDecode);
    }
    Ok(LetterPdf {
        bytes: pdf.finish(),
        pages: page_refs.len(),
        replaced,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn font_data() -> Option<Vec<u8>> {
        find_font().ok().and_then(|p| std::fs::read(p).ok())
    }

    #[test]
    fn wrapping_keeps_every_character_and_the_width() {
        let Some(data) = font_data() else {
            panic!("{}", find_font().unwrap_err());
        };
        let font = Fonts {
            list: vec![Font::load(&data, Path::new("font")).unwrap()],
        };
        let text = "両側肺野に浸潤影を認め、市中肺炎と診断した。CRP 18.6 mg/dL、WBC 15200/μL。セフトリアキソン2g/日で加療し、解熱した（第5病日）。".repeat(4);
        let lines = wrap(&font, &text, 10.5, 200.0);
        assert!(lines.len() > 4);
        assert_eq!(lines.concat().replace(' ', ""), text.replace(' ', ""));
        for line in &lines {
            // Within the width, give or take hanging punctuation (。」).
            assert!(font.width(line, 10.5) <= 200.0 + 2.0 * 10.5, "{line}");
            let first = line.chars().next().unwrap();
            assert!(!no_line_start(first), "line starts with {first}: {line}");
        }
        // An ASCII word is not split while it fits on a line.
        let lines = wrap(&font, "値は abcdefghijklmnopqrstuvwxyz でした", 10.5, 150.0);
        assert!(
            lines
                .iter()
                .any(|l| l.contains("abcdefghijklmnopqrstuvwxyz")),
            "{lines:?}"
        );
    }
}
