//! A one-to-five star rating built on native radio buttons: the browser gives it arrow-key
//! navigation, focus handling and screen-reader semantics of a radio group for free.

use web_sys::HtmlInputElement;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct StarRatingProps {
    pub legend: AttrValue,
    /// The accessible name of each star, "1 star" to "5 stars".
    pub names: [&'static str; 5],
    pub value: Option<u8>,
    pub onchange: Callback<u8>,
}

#[function_component]
pub fn StarRating(props: &StarRatingProps) -> Html {
    let onchange = {
        let onchange = props.onchange.clone();
        Callback::from(move |event: Event| {
            let input: HtmlInputElement = event.target_unchecked_into();
            if let Ok(value) = input.value().parse::<u8>() {
                onchange.emit(value);
            }
        })
    };
    html! {
        <fieldset class="stars">
            <legend>{ props.legend.clone() }</legend>
            <div class="stars-row">
                { for (1..=5u8).map(|value| {
                    let id = format!("earshot-star-{value}");
                    let lit = props.value.is_some_and(|chosen| value <= chosen);
                    html! {
                        <>
                            <input
                                type="radio"
                                class="visually-hidden"
                                name="earshot-rating"
                                id={id.clone()}
                                value={value.to_string()}
                                checked={props.value == Some(value)}
                                onchange={onchange.clone()}
                            />
                            <label for={id} class={classes!("star", lit.then_some("lit"))}>
                                <svg viewBox="0 0 24 24" aria-hidden="true" focusable="false">
                                    <path d="M12 2.5l2.9 6.1 6.6.8-4.9 4.6 1.3 6.6L12 17.3l-5.9 3.3 1.3-6.6-4.9-4.6 6.6-.8z" />
                                </svg>
                                <span class="visually-hidden">{ props.names[usize::from(value - 1)] }</span>
                            </label>
                        </>
                    }
                }) }
            </div>
        </fieldset>
    }
}
