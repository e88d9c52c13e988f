//! What a visitor reads from Earshot outside the widget (the emails they get and their
//! conversation page), in the widget's seven languages. `{site}` stands for the site's name.

/// The visitor-facing text in one language.
#[derive(Debug, PartialEq, Eq)]
pub struct VisitorTexts {
    /// The BCP 47 primary language subtag, e.g. `fr`.
    pub lang: &'static str,
    /// The subject of an owner's reply.
    pub reply_subject: &'static str,
    /// Above the quoted feedback in an email.
    pub you_wrote: &'static str,
    /// Before the conversation page's link in an email.
    pub open_conversation: &'static str,
    /// Under the link: it is personal.
    pub keep_private: &'static str,
    /// The conversation page's title.
    pub page_title: &'static str,
    /// Who said it, in the thread.
    pub you: &'static str,
    pub your_answer: &'static str,
    pub send: &'static str,
    pub answer_sent: &'static str,
    pub empty_answer: &'static str,
    pub too_long: &'static str,
    pub too_many: &'static str,
    /// A link that expired or never existed.
    pub link_expired: &'static str,
    /// A comment left empty in the widget.
    pub no_comment: &'static str,
}

pub const EN: VisitorTexts = VisitorTexts {
    lang: "en",
    reply_subject: "Re: your feedback on {site}",
    you_wrote: "You wrote:",
    open_conversation: "See the whole conversation and answer here:",
    keep_private: "This link is yours alone: anyone who has it can read this conversation.",
    page_title: "Your conversation with {site}",
    you: "You",
    your_answer: "Your answer",
    send: "Send",
    answer_sent: "Thank you, your answer was sent.",
    empty_answer: "Please write your answer first.",
    too_long: "Your answer is too long. Please shorten it.",
    too_many: "You have sent many answers in a short time. Please wait a little and try again.",
    link_expired: "This link has expired. Please use the link in the latest email you received.",
    no_comment: "(no comment)",
};

pub const ES: VisitorTexts = VisitorTexts {
    lang: "es",
    reply_subject: "Re: tu opinión sobre {site}",
    you_wrote: "Escribiste:",
    open_conversation: "Consulta toda la conversación y responde aquí:",
    keep_private: "Este enlace es solo tuyo: quien lo tenga puede leer esta conversación.",
    page_title: "Tu conversación con {site}",
    you: "Tú",
    your_answer: "Tu respuesta",
    send: "Enviar",
    answer_sent: "Gracias, tu respuesta se ha enviado.",
    empty_answer: "Escribe primero tu respuesta.",
    too_long: "Tu respuesta es demasiado larga. Acórtala, por favor.",
    too_many: "Has enviado muchas respuestas en poco tiempo. Espera un poco y vuelve a intentarlo.",
    link_expired: "Este enlace ha caducado. Usa el enlace del último correo que recibiste.",
    no_comment: "(sin comentario)",
};

pub const FR: VisitorTexts = VisitorTexts {
    lang: "fr",
    reply_subject: "Re : votre avis sur {site}",
    you_wrote: "Vous avez écrit :",
    open_conversation: "Retrouvez toute la conversation et répondez ici :",
    keep_private: "Ce lien est personnel : quiconque le possède peut lire cette conversation.",
    page_title: "Votre conversation avec {site}",
    you: "Vous",
    your_answer: "Votre réponse",
    send: "Envoyer",
    answer_sent: "Merci, votre réponse a été envoyée.",
    empty_answer: "Veuillez d’abord écrire votre réponse.",
    too_long: "Votre réponse est trop longue. Veuillez la raccourcir.",
    too_many: "Vous avez envoyé beaucoup de réponses en peu de temps. Patientez un peu, puis réessayez.",
    link_expired: "Ce lien a expiré. Utilisez le lien du dernier e-mail que vous avez reçu.",
    no_comment: "(pas de commentaire)",
};

pub const DE: VisitorTexts = VisitorTexts {
    lang: "de",
    reply_subject: "Re: Ihr Feedback zu {site}",
    you_wrote: "Sie schrieben:",
    open_conversation: "Die ganze Unterhaltung lesen und antworten:",
    keep_private: "Dieser Link gehört nur Ihnen: Wer ihn hat, kann diese Unterhaltung lesen.",
    page_title: "Ihre Unterhaltung mit {site}",
    you: "Sie",
    your_answer: "Ihre Antwort",
    send: "Senden",
    answer_sent: "Danke, Ihre Antwort wurde gesendet.",
    empty_answer: "Bitte schreiben Sie zuerst Ihre Antwort.",
    too_long: "Ihre Antwort ist zu lang. Bitte kürzen Sie sie.",
    too_many: "Sie haben in kurzer Zeit viele Antworten gesendet. Bitte warten Sie kurz und versuchen Sie es erneut.",
    link_expired: "Dieser Link ist abgelaufen. Bitte nutzen Sie den Link aus der neuesten E-Mail.",
    no_comment: "(kein Kommentar)",
};

pub const PT: VisitorTexts = VisitorTexts {
    lang: "pt",
    reply_subject: "Re: a sua opinião sobre {site}",
    you_wrote: "Você escreveu:",
    open_conversation: "Veja toda a conversa e responda aqui:",
    keep_private: "Este link é só seu: quem o tiver pode ler esta conversa.",
    page_title: "A sua conversa com {site}",
    you: "Você",
    your_answer: "A sua resposta",
    send: "Enviar",
    answer_sent: "Obrigado, a sua resposta foi enviada.",
    empty_answer: "Escreva primeiro a sua resposta.",
    too_long: "A sua resposta é demasiado longa. Encurte-a, por favor.",
    too_many: "Enviou muitas respostas em pouco tempo. Aguarde um pouco e tente de novo.",
    link_expired: "Este link expirou. Use o link do último e-mail que recebeu.",
    no_comment: "(sem comentário)",
};

pub const JA: VisitorTexts = VisitorTexts {
    lang: "ja",
    reply_subject: "Re: {site} へのご意見",
    you_wrote: "お客様のメッセージ:",
    open_conversation: "会話の全文の確認とご返信はこちら:",
    keep_private: "このリンクはお客様専用です。リンクを知っている人は誰でもこの会話を読めます。",
    page_title: "{site} との会話",
    you: "あなた",
    your_answer: "ご返信",
    send: "送信",
    answer_sent: "ありがとうございます。ご返信を送信しました。",
    empty_answer: "先にご返信を入力してください。",
    too_long: "ご返信が長すぎます。短くしてください。",
    too_many: "短時間に多くの返信が送信されました。しばらくしてからもう一度お試しください。",
    link_expired: "このリンクの有効期限が切れています。最新のメールにあるリンクをご利用ください。",
    no_comment: "(コメントなし)",
};

pub const ZH: VisitorTexts = VisitorTexts {
    lang: "zh",
    reply_subject: "回复：您对 {site} 的反馈",
    you_wrote: "您写道：",
    open_conversation: "在此查看完整对话并回复：",
    keep_private: "此链接仅属于您：任何拥有它的人都能阅读此对话。",
    page_title: "您与 {site} 的对话",
    you: "您",
    your_answer: "您的回复",
    send: "发送",
    answer_sent: "谢谢，您的回复已发送。",
    empty_answer: "请先写下您的回复。",
    too_long: "您的回复太长，请缩短。",
    too_many: "您在短时间内发送了太多回复。请稍候再试。",
    link_expired: "此链接已过期。请使用您最近收到的邮件中的链接。",
    no_comment: "（无评论）",
};

/// Every language, English first: the widget's seven.
pub const LANGUAGES: [&VisitorTexts; 7] = [&EN, &ES, &FR, &DE, &PT, &JA, &ZH];

/// The texts for the language the visitor's widget spoke (`fr-CA` matches `fr`), else
/// English.
pub fn for_locale(locale: &str) -> &'static VisitorTexts {
    let primary = locale
        .split(['-', '_'])
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    LANGUAGES
        .into_iter()
        .find(|texts| texts.lang == primary)
        .unwrap_or(&EN)
}

/// `text` with `{site}` replaced by the site's name.
pub fn with_site(text: &str, site: &str) -> String {
    text.replace("{site}", site)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locales_pick_their_language_and_fall_back_to_english() {
        assert_eq!(for_locale("fr-CA").lang, "fr");
        assert_eq!(for_locale("pt_BR").lang, "pt");
        assert_eq!(for_locale("ZH").lang, "zh");
        assert_eq!(for_locale("nl").lang, "en");
        assert_eq!(for_locale("").lang, "en");
    }

    /// Each language says everything in its own words: nothing empty, nothing left in
    /// English, and every subject and title names the site.
    #[test]
    fn every_language_is_complete() {
        for texts in LANGUAGES {
            let all = [
                texts.reply_subject,
                texts.you_wrote,
                texts.open_conversation,
                texts.keep_private,
                texts.page_title,
                texts.you,
                texts.your_answer,
                texts.send,
                texts.answer_sent,
                texts.empty_answer,
                texts.too_long,
                texts.too_many,
                texts.link_expired,
                texts.no_comment,
            ];
            assert!(
                all.iter().all(|text| !text.trim().is_empty()),
                "{}",
                texts.lang
            );
            assert!(texts.reply_subject.contains("{site}"), "{}", texts.lang);
            assert!(texts.page_title.contains("{site}"), "{}", texts.lang);
            if texts.lang != "en" {
                let english = [
                    EN.you_wrote,
                    EN.your_answer,
                    EN.answer_sent,
                    EN.link_expired,
                ];
                for text in english {
                    assert!(
                        !all.contains(&text),
                        "{} left {text:?} in English",
                        texts.lang
                    );
                }
            }
        }
    }
}
