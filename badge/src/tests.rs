use super::*;
use crate::template::Field;

pub(crate) fn ada() -> BadgeData {
    BadgeData {
        conference: "Contoso Developers Summit 2026".into(),
        attendee_type: "Speaker".into(),
        band: [0xC0, 0x39, 0x2B],
        first_name: "Ñuñez".into(),
        last_name: "Łódź-Zürich".into(),
        company: "Contoso Ltd.".into(),
        entitlements: vec!["Workshop: Event Sourcing".into(), "Speakers' dinner".into()],
        ticket_code: "K7M-2QX".into(),
        ..Default::default()
    }
}

fn texts(l: &Layout) -> Vec<(String, f32)> {
    l.shapes
        .iter()
        .filter_map(|s| match s {
            Shape::Text { text, size, .. } => Some((text.clone(), *size)),
            Shape::Fill { .. } => None,
        })
        .collect()
}

#[test]
fn the_default_set_has_every_preset_and_is_valid() {
    let set = TemplateSet::default_set();
    let pages: Vec<PageSize> = set.templates.iter().map(|t| t.page).collect();
    assert_eq!(
        pages,
        [PageSize::FourByThreeIn, PageSize::A6, PageSize::Label54x90]
    );
    assert_eq!(set.first().id, "badge-4x3in");
}

#[test]
fn a_badge_shows_every_field_and_the_name_largest() {
    let set = TemplateSet::default_set();
    for t in &set.templates {
        let l = layout(t, &ada()).unwrap();
        assert!(l.warnings.is_empty(), "{}: {:?}", t.id, l.warnings);
        let texts = texts(&l);
        let all: Vec<&str> = texts.iter().map(|(t, _)| t.as_str()).collect();
        for want in [
            "Speaker",
            "Contoso Developers Summit 2026",
            "Ñuñez Łódź-Zürich",
            "Contoso Ltd.",
            "K7M-2QX",
        ] {
            assert!(all.contains(&want), "{}: {want} missing from {all:?}", t.id);
        }
        assert!(
            all.iter()
                .any(|t| t.contains("Workshop: Event Sourcing") || t.contains("Workshop:")),
            "{}: {all:?}",
            t.id
        );
        let name_size = texts
            .iter()
            .find(|(t, _)| t == "Ñuñez Łódź-Zürich")
            .unwrap()
            .1;
        assert!(texts.iter().all(|(_, s)| *s <= name_size), "{}", t.id);
    }
}

#[test]
fn a_long_name_shrinks_then_wraps_then_warns() {
    let t = TemplateSet::default_set()
        .get("badge-4x3in")
        .unwrap()
        .clone();
    let mut data = ada();

    data.first_name = "Maximiliane".into();
    data.last_name = "Oberhollenzer".into();
    let l = layout(&t, &data).unwrap();
    let name: Vec<_> = texts(&l)
        .into_iter()
        .filter(|(s, _)| s.contains("Maxim"))
        .collect();
    assert_eq!(name.len(), 1, "shrunk onto one line: {name:?}");
    assert!(name[0].1 < 30.0 && name[0].1 >= 16.0, "{name:?}");

    data.first_name = "Maria Guadalupe".into();
    data.last_name = "Fernández de la Torre Villalobos".into();
    let l = layout(&t, &data).unwrap();
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    let lines: Vec<_> = texts(&l)
        .into_iter()
        .filter(|(s, _)| s.contains("Maria") || s.contains("Villalobos"))
        .collect();
    assert_eq!(lines.len(), 2, "wrapped onto two lines: {lines:?}");

    data.first_name = "Wolfeschlegelsteinhausenbergerdorff".into();
    data.last_name = "Hubert Blaine Wolfeschlegelsteinhausenbergerdorff Senior".into();
    let l = layout(&t, &data).unwrap();
    assert_eq!(
        l.warnings,
        [Warning::Overflow {
            field: Field::Name,
            text: data.full_name()
        }]
    );
    assert!(l.warnings[0].to_string().contains("does not fit"));
    let drawn: String = texts(&l)
        .into_iter()
        .filter(|(_, s)| *s == 16.0)
        .map(|(t, _)| t)
        .collect();
    assert!(drawn.ends_with('…'), "cut short visibly: {drawn}");
}

#[test]
fn characters_the_font_lacks_are_reported() {
    let t = TemplateSet::default_set().first().clone();
    let mut data = ada();
    data.company = "東京 Contoso".into();
    let l = layout(&t, &data).unwrap();
    assert_eq!(
        l.warnings,
        [Warning::MissingGlyphs {
            field: Field::Company,
            chars: "東京".into()
        }]
    );
}

#[test]
fn empty_fields_leave_no_trace_and_no_warning() {
    let t = TemplateSet::default_set().first().clone();
    let mut data = ada();
    data.company = "  ".into();
    data.entitlements.clear();
    let l = layout(&t, &data).unwrap();
    assert!(l.warnings.is_empty());
    assert_eq!(texts(&l).len(), 4, "{:?}", texts(&l));
}

#[test]
fn band_text_reads_on_its_colour() {
    assert_eq!(on([0xC0, 0x39, 0x2B]), [255, 255, 255]);
    assert_eq!(on([0xF1, 0xC4, 0x0F]), [0, 0, 0]);
    assert_eq!(on([0xFF, 0xFF, 0xFF]), [0, 0, 0]);
    assert_eq!(on([0x1F, 0x3A, 0x93]), [255, 255, 255]);
}

#[test]
fn the_same_data_renders_the_same_bytes() {
    let t = TemplateSet::default_set().first().clone();
    let a = render_badge(&t, &ada()).unwrap();
    let b = render_badge(&t, &ada()).unwrap();
    assert_eq!(a.pdf, b.pdf);
    let mut other = ada();
    other.company = "Fabrikam".into();
    assert_ne!(render_badge(&t, &other).unwrap().pdf, a.pdf);
    assert!(a.pdf.starts_with(b"%PDF-"));
    assert!(a.pdf.len() < 60_000, "font subset: {} bytes", a.pdf.len());
}

#[test]
fn sheets_sort_by_name_and_fill_pages() {
    let t = TemplateSet::default_set().get("badge-a6").unwrap().clone();
    let people = [
        ("Zoë", "Ångström"),
        ("Ana", "Zapata"),
        ("Émile", "Abadie"),
        ("Ola", "Łukasz"),
        ("Bob", "ábel"),
    ];
    let badges: Vec<BadgeData> = people
        .iter()
        .enumerate()
        .map(|(i, (f, l))| BadgeData {
            first_name: (*f).into(),
            last_name: (*l).into(),
            ticket_code: format!("T{i}"),
            ..ada()
        })
        .collect();
    let s = render_sheets(&t, Paper::A4, &badges).unwrap();
    assert_eq!(s.per_page, 4);
    assert_eq!(s.pages, 2);
    // Abadie, ábel, Ångström, Łukasz, Zapata
    assert_eq!(s.order, ["T2", "T4", "T0", "T3", "T1"]);
    let letter = render_sheets(TemplateSet::default_set().first(), Paper::Letter, &badges).unwrap();
    assert_eq!(letter.per_page, 6);
    assert_eq!(letter.pages, 1);
}

#[test]
fn templates_are_checked_when_read() {
    let good = include_str!("../../shared/assets/templates.json");
    assert!(TemplateSet::from_json(good).is_ok());
    assert_eq!(
        TemplateSet::from_json(&good.replacen("\"format\": 1", "\"format\": 2", 1)),
        Err(TemplateError::UnknownFormat { found: 2 })
    );
    let outside = good.replacen("\"x\": 71.6", "\"x\": 90", 1);
    assert!(matches!(
        TemplateSet::from_json(&outside),
        Err(TemplateError::Invalid { .. })
    ));
    let colour = good.replacen("\"#444444\"", "\"grey\"", 1);
    assert!(matches!(
        TemplateSet::from_json(&colour),
        Err(TemplateError::Malformed(m)) if m.contains("grey")
    ));
    assert!(matches!(
        TemplateSet::from_json("{\"format\": 1, \"templates\": []}"),
        Err(TemplateError::Malformed(_))
    ));
    let custom = r#"{"format":1,"templates":[{"id":"c","name":"c","page":{"preset":"custom","width_mm":80,"height_mm":50},"elements":[]}]}"#;
    let set = TemplateSet::from_json(custom).unwrap();
    assert_eq!(set.first().page.mm(), (80.0, 50.0));
    assert_eq!(set.first().page.media(), "Custom.80x50mm");
    assert_eq!(PageSize::FourByThreeIn.media(), "Custom.4x3in");
}

#[test]
#[ignore = "writes sample PDFs to /tmp for a person to look at"]
fn samples() {
    for t in &TemplateSet::default_set().templates {
        std::fs::write(
            format!("/tmp/{}.pdf", t.id),
            render_badge(t, &ada()).unwrap().pdf,
        )
        .unwrap();
    }
}

#[test]
fn the_preview_svg_draws_the_same_layout_with_text_escaped() {
    let set = TemplateSet::default_set();
    let mut data = ada();
    data.company = "Smith & <Sons>".into();
    let (svg, warnings) = render_svg(set.first(), &data).expect("svg");
    let laid = layout(set.first(), &data).expect("layout");
    assert_eq!(warnings, laid.warnings);
    assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    assert!(svg.contains("viewBox=\"0 0 288.00 216.00\""), "{svg}");
    assert!(svg.contains("Smith &amp; &lt;Sons&gt;"));
    assert!(svg.contains("Łódź-Zürich"));
    let texts = laid
        .shapes
        .iter()
        .filter(|s| matches!(s, Shape::Text { .. }))
        .count();
    assert_eq!(svg.matches("<text ").count(), texts);
    // The band in the attendee type's colour.
    assert!(svg.contains("fill=\"#c0392b\""));
}
