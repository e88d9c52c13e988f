//! The other rating scales, on native radio buttons like the stars: thumbs up or down, the
//! 0–10 Net Promoter Score, and five faces from very dissatisfied to very satisfied.

use earshot_shared::RatingKind;
use earshot_shared::json::decimal;
use yew::prelude::*;

use super::on_choice;
use crate::i18n::Texts;

/// A face for each point of the satisfaction scale: the mouth turns from a frown to a smile.
const FACE_MOUTHS: [&str; 5] = [
    "M8 17.2q4-4.4 8 0",
    "M8.5 16.4q3.5-2.2 7 0",
    "M8.5 15.2h7",
    "M8.5 14.2q3.5 2.2 7 0",
    "M8 13.6q4 4.6 8 0",
];
const THUMB: &str = "M2 21h4V9H2v12zm21-11c0-1.1-.9-2-2-2h-6.3l1-4.6v-.3c0-.4-.2-.8-.5-1.1L14.2 1 7.6 7.6C7.2 8 7 8.5 7 9v10c0 1.1.9 2 2 2h9c.8 0 1.5-.5 1.8-1.2l3-7.1c.1-.2.2-.5.2-.7v-2z";

/// The choices of a thumbs, NPS or emoji scale (stars have their own) under `legend`,
/// `value` chosen.
pub fn choice_rating(
    kind: RatingKind,
    legend: AttrValue,
    texts: &'static Texts,
    value: Option<u8>,
    onchange: &Callback<u8>,
) -> Html {
    let onchange = on_choice(onchange);
    let kind_name = kind.as_str();
    // (value, accessible name, what is drawn)
    let choices: Vec<(u8, String, Html)> = match kind {
        RatingKind::Thumbs => [(1, texts.yes, "up"), (0, texts.no, "down")]
            .into_iter()
            .map(|(value, name, direction)| {
                let icon = html! {
                    <svg class="thumb" data-dir={direction} viewBox="0 0 24 24" aria-hidden="true" focusable="false">
                        <path d={THUMB} />
                    </svg>
                };
                (value, name.to_owned(), html! { <>{ icon }<span>{ name }</span></> })
            })
            .collect(),
        RatingKind::Nps => (0..=10u8)
            .map(|value| {
                let number = decimal(value);
                // The ends carry their meaning for screen readers; the scale below shows it.
                let name = match value {
                    0 => [number.as_str(), " – ", texts.nps_low].concat(),
                    10 => [number.as_str(), " – ", texts.nps_high].concat(),
                    _ => number.clone(),
                };
                (value, name, html! { <span aria-hidden="true">{ number }</span> })
            })
            .collect(),
        RatingKind::Emoji | RatingKind::Stars => (1..=5u8)
            .map(|value| {
                let face = html! {
                    <svg viewBox="0 0 24 24" aria-hidden="true" focusable="false">
                        <circle class="face" cx="12" cy="12" r="9.6" />
                        <circle class="eye" cx="9" cy="9.8" r="1.25" />
                        <circle class="eye" cx="15" cy="9.8" r="1.25" />
                        <path class="mouth" d={FACE_MOUTHS[usize::from(value - 1)]} />
                    </svg>
                };
                (value, texts.emoji_names[usize::from(value - 1)].to_owned(), face)
            })
            .collect(),
    };
    let visible_names = kind == RatingKind::Thumbs;
    html! {
        <fieldset class="rating" data-kind={kind_name}>
            <legend>{ legend }</legend>
            <div class="choices">
                { for choices.into_iter().map(|(choice, name, drawing)| {
                    let id = ["earshot-", kind_name, "-", &decimal(choice)].concat();
                    let selected = value == Some(choice);
                    html! {
                        <>
                            <input
                                type="radio"
                                class="visually-hidden"
                                name="earshot-rating"
                                id={id.clone()}
                                value={decimal(choice)}
                                checked={selected}
                                onchange={onchange.clone()}
                            />
                            <label for={id} class="choice" data-selected={selected.then_some("")}>
                                { drawing }
                                if !visible_names {
                                    <span class="visually-hidden">{ name }</span>
                                }
                            </label>
                        </>
                    }
                }) }
            </div>
            if kind == RatingKind::Nps {
                <div class="nps-ends" aria-hidden="true">
                    <span>{ texts.nps_low }</span>
                    <span>{ texts.nps_high }</span>
                </div>
            }
        </fieldset>
    }
}
