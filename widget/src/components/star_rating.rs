//! A one-to-five star rating built on native radio buttons: the browser gives it arrow-key
//! navigation, focus handling and screen-reader semantics of a radio group for free.

use earshot_shared::json::decimal;
use yew::prelude::*;

use super::on_choice;

/// Five stars under `legend`, each named for screen readers by `names` ("1 star" to "5
/// stars"); those up to `value` are lit.
pub fn star_rating(
    legend: AttrValue,
    names: [&'static str; 5],
    value: Option<u8>,
    onchange: &Callback<u8>,
) -> Html {
    let onchange = on_choice(onchange);
    html! {
        <fieldset class="stars">
            <legend>{ legend }</legend>
            <div class="stars-row">
                { for (1..=5u8).map(|star| {
                    let id = ["earshot-star-", &decimal(star)].concat();
                    let lit = value.is_some_and(|chosen| star <= chosen);
                    html! {
                        <>
                            <input
                                type="radio"
                                class="visually-hidden"
                                name="earshot-rating"
                                id={id.clone()}
                                value={decimal(star)}
                                checked={value == Some(star)}
                                onchange={onchange.clone()}
                            />
                            <label for={id} class="star" data-lit={lit.then_some("")}>
                                <svg viewBox="0 0 24 24" aria-hidden="true" focusable="false">
                                    <path d="M12 2.5l2.9 6.1 6.6.8-4.9 4.6 1.3 6.6L12 17.3l-5.9 3.3 1.3-6.6-4.9-4.6 6.6-.8z" />
                                </svg>
                                <span class="visually-hidden">{ names[usize::from(star - 1)] }</span>
                            </label>
                        </>
                    }
                }) }
            </div>
        </fieldset>
    }
}
