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
    /// The acknowledgement's subject and first words; `{promise}` is a time such as
    /// "2 days".
    pub ack_subject: &'static str,
    pub ack_body: &'static str,
    /// The notice that the feedback was resolved.
    pub resolved_subject: &'static str,
    pub resolved_body: &'static str,
    /// The promise beside the widget's email field, and in the acknowledgement.
    pub promise: &'static str,
    /// `{n}` hours or days, and their singular.
    pub hours: &'static str,
    pub one_hour: &'static str,
    pub days: &'static str,
    pub one_day: &'static str,
    /// The link at the foot of each email, and the page it opens.
    pub unsubscribe: &'static str,
    pub unsubscribe_question: &'static str,
    pub unsubscribe_button: &'static str,
    pub unsubscribed: &'static str,
    /// Which address the page is about (masked); `{address}`.
    pub unsubscribe_address: &'static str,
    /// An answer is still owed; `{date}` is when the visitor last wrote.
    pub answer_owed: &'static str,
    /// Stop everything but this conversation's replies, and what the page says after.
    pub keep_reply_button: &'static str,
    pub unsubscribed_kept: &'static str,
    /// Undoing, until `{date}`; and what the page says after.
    pub undo_hint: &'static str,
    pub undo_button: &'static str,
    pub resubscribed: &'static str,
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
    ack_subject: "We received your feedback on {site}",
    ack_body: "Thank you for your feedback. We read every message, and we answer within {promise}.",
    resolved_subject: "Your feedback on {site} was resolved",
    resolved_body: "Good news: what you told us about has been resolved. Thank you for taking the time to write.",
    promise: "We answer within {promise}.",
    hours: "{n} hours",
    one_hour: "an hour",
    days: "{n} days",
    one_day: "a day",
    unsubscribe: "No more email from {site}:",
    unsubscribe_question: "Stop all email from {site} to this address?",
    unsubscribe_button: "Stop email",
    unsubscribed: "Done: you will get no more email from {site}.",
    unsubscribe_address: "This is about email to {address}.",
    answer_owed: "{site} still owes you an answer to what you wrote on {date}. If you stop all email, it cannot reach you.",
    keep_reply_button: "Stop everything else, but send me the answer to this conversation",
    unsubscribed_kept: "Done: {site} will send you nothing more but the answers to this conversation.",
    undo_hint: "Changed your mind? You can undo this until {date}.",
    undo_button: "Undo",
    resubscribed: "Undone: {site} may email you again.",
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
    ack_subject: "Hemos recibido tu opinión sobre {site}",
    ack_body: "Gracias por tu opinión. Leemos todos los mensajes y respondemos en {promise}.",
    resolved_subject: "Tu opinión sobre {site} se ha resuelto",
    resolved_body: "Buenas noticias: lo que nos contaste se ha resuelto. Gracias por escribirnos.",
    promise: "Respondemos en {promise}.",
    hours: "{n} horas",
    one_hour: "una hora",
    days: "{n} días",
    one_day: "un día",
    unsubscribe: "No recibir más correos de {site}:",
    unsubscribe_question: "¿Dejar de recibir correos de {site} en esta dirección?",
    unsubscribe_button: "Dejar de recibir correos",
    unsubscribed: "Hecho: no recibirás más correos de {site}.",
    unsubscribe_address: "Se trata de los correos a {address}.",
    answer_owed: "{site} aún te debe una respuesta a lo que escribiste el {date}. Si dejas de recibir todos los correos, no podrá llegarte.",
    keep_reply_button: "Dejar todo lo demás, pero enviarme la respuesta a esta conversación",
    unsubscribed_kept: "Hecho: {site} solo te enviará las respuestas a esta conversación.",
    undo_hint: "¿Has cambiado de opinión? Puedes deshacerlo hasta el {date}.",
    undo_button: "Deshacer",
    resubscribed: "Deshecho: {site} puede volver a escribirte.",
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
    ack_subject: "Nous avons bien reçu votre avis sur {site}",
    ack_body: "Merci pour votre avis. Nous lisons chaque message et répondons sous {promise}.",
    resolved_subject: "Votre avis sur {site} a été traité",
    resolved_body: "Bonne nouvelle : ce que vous nous avez signalé a été résolu. Merci d’avoir pris le temps d’écrire.",
    promise: "Nous répondons sous {promise}.",
    hours: "{n} heures",
    one_hour: "une heure",
    days: "{n} jours",
    one_day: "un jour",
    unsubscribe: "Ne plus recevoir d’e-mails de {site} :",
    unsubscribe_question: "Ne plus recevoir aucun e-mail de {site} à cette adresse ?",
    unsubscribe_button: "Ne plus recevoir d’e-mails",
    unsubscribed: "C’est fait : vous ne recevrez plus d’e-mails de {site}.",
    unsubscribe_address: "Il s’agit des e-mails envoyés à {address}.",
    answer_owed: "{site} vous doit encore une réponse à votre message du {date}. Si vous arrêtez tous les e-mails, elle ne pourra pas vous parvenir.",
    keep_reply_button: "Tout arrêter sauf la réponse à cette conversation",
    unsubscribed_kept: "C’est fait : {site} ne vous enverra plus que les réponses à cette conversation.",
    undo_hint: "Vous avez changé d’avis ? Vous pouvez annuler jusqu’au {date}.",
    undo_button: "Annuler",
    resubscribed: "Annulé : {site} peut de nouveau vous écrire.",
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
    ack_subject: "Wir haben Ihr Feedback zu {site} erhalten",
    ack_body: "Danke für Ihr Feedback. Wir lesen jede Nachricht und antworten innerhalb von {promise}.",
    resolved_subject: "Ihr Feedback zu {site} wurde erledigt",
    resolved_body: "Gute Nachricht: Das, was Sie uns gemeldet haben, ist behoben. Danke, dass Sie sich die Zeit genommen haben.",
    promise: "Wir antworten innerhalb von {promise}.",
    hours: "{n} Stunden",
    one_hour: "einer Stunde",
    days: "{n} Tagen",
    one_day: "einem Tag",
    unsubscribe: "Keine E-Mails mehr von {site}:",
    unsubscribe_question: "Keine E-Mails mehr von {site} an diese Adresse?",
    unsubscribe_button: "Keine E-Mails mehr",
    unsubscribed: "Erledigt: Sie erhalten keine E-Mails mehr von {site}.",
    unsubscribe_address: "Es geht um E-Mails an {address}.",
    answer_owed: "{site} schuldet Ihnen noch eine Antwort auf Ihre Nachricht vom {date}. Wenn Sie alle E-Mails abbestellen, kann sie Sie nicht erreichen.",
    keep_reply_button: "Alles andere abbestellen, aber die Antwort auf dieses Gespräch erhalten",
    unsubscribed_kept: "Erledigt: {site} schickt Ihnen nur noch die Antworten auf dieses Gespräch.",
    undo_hint: "Umentschieden? Sie können das bis {date} rückgängig machen.",
    undo_button: "Rückgängig machen",
    resubscribed: "Rückgängig gemacht: {site} darf Ihnen wieder schreiben.",
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
    ack_subject: "Recebemos a sua opinião sobre {site}",
    ack_body: "Obrigado pela sua opinião. Lemos todas as mensagens e respondemos em {promise}.",
    resolved_subject: "A sua opinião sobre {site} foi resolvida",
    resolved_body: "Boas notícias: o que nos contou foi resolvido. Obrigado por ter escrito.",
    promise: "Respondemos em {promise}.",
    hours: "{n} horas",
    one_hour: "uma hora",
    days: "{n} dias",
    one_day: "um dia",
    unsubscribe: "Não receber mais e-mails de {site}:",
    unsubscribe_question: "Deixar de receber e-mails de {site} neste endereço?",
    unsubscribe_button: "Deixar de receber e-mails",
    unsubscribed: "Feito: não receberá mais e-mails de {site}.",
    unsubscribe_address: "Trata-se dos e-mails para {address}.",
    answer_owed: "{site} ainda lhe deve uma resposta ao que escreveu em {date}. Se deixar de receber todos os e-mails, ela não poderá chegar até si.",
    keep_reply_button: "Parar tudo o resto, mas enviar-me a resposta a esta conversa",
    unsubscribed_kept: "Feito: {site} só lhe enviará as respostas a esta conversa.",
    undo_hint: "Mudou de ideias? Pode anular isto até {date}.",
    undo_button: "Anular",
    resubscribed: "Anulado: {site} pode voltar a escrever-lhe.",
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
    ack_subject: "{site} へのご意見を受け付けました",
    ack_body: "ご意見ありがとうございます。すべてのメッセージに目を通し、{promise}以内にお返事します。",
    resolved_subject: "{site} へのご意見は解決しました",
    resolved_body: "お知らせいただいた件は解決しました。ご連絡いただきありがとうございました。",
    promise: "{promise}以内にお返事します。",
    hours: "{n}時間",
    one_hour: "1時間",
    days: "{n}日",
    one_day: "1日",
    unsubscribe: "{site} からのメールを停止:",
    unsubscribe_question: "このアドレスへの {site} からのメールをすべて停止しますか?",
    unsubscribe_button: "メールを停止",
    unsubscribed: "完了しました。{site} からのメールは今後届きません。",
    unsubscribe_address: "{address} 宛てのメールについてです。",
    answer_owed: "{site} は {date} にお送りいただいた内容への返信をまだお送りしていません。すべてのメールを停止すると、返信は届きません。",
    keep_reply_button: "この会話への返信以外をすべて停止",
    unsubscribed_kept: "完了しました。{site} からは、この会話への返信だけが届きます。",
    undo_hint: "気が変わりましたか？ {date} まで取り消せます。",
    undo_button: "取り消す",
    resubscribed: "取り消しました。{site} から再びメールが届きます。",
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
    ack_subject: "我们已收到您对 {site} 的反馈",
    ack_body: "感谢您的反馈。我们会阅读每一条消息，并在{promise}内回复。",
    resolved_subject: "您对 {site} 的反馈已解决",
    resolved_body: "好消息：您反馈的问题已经解决。感谢您抽空来信。",
    promise: "我们会在{promise}内回复。",
    hours: "{n} 小时",
    one_hour: "1 小时",
    days: "{n} 天",
    one_day: "1 天",
    unsubscribe: "不再接收来自 {site} 的邮件：",
    unsubscribe_question: "停止向此地址发送来自 {site} 的所有邮件？",
    unsubscribe_button: "停止接收邮件",
    unsubscribed: "已完成：您将不会再收到来自 {site} 的邮件。",
    unsubscribe_address: "这是关于发往 {address} 的邮件。",
    answer_owed: "{site} 仍欠您一个对您在 {date} 所写内容的答复。如果停止所有邮件，答复将无法送达。",
    keep_reply_button: "停止其他所有邮件，但仍向我发送此对话的答复",
    unsubscribed_kept: "完成：{site} 今后只会向您发送此对话的答复。",
    undo_hint: "改变主意了？您可以在 {date} 之前撤销。",
    undo_button: "撤销",
    resubscribed: "已撤销：{site} 可以再次给您发邮件。",
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

/// `2026-11-22 14:03 UTC`: the same in every language.
pub use earshot_store::clock::minute as when;

/// A promise of `hours` in words: "2 days", "an hour", "36 hours".
pub fn promise_time(texts: &VisitorTexts, hours: u32) -> String {
    match hours {
        1 => texts.one_hour.to_owned(),
        24 => texts.one_day.to_owned(),
        hours if hours % 24 == 0 => texts.days.replace("{n}", &(hours / 24).to_string()),
        hours => texts.hours.replace("{n}", &hours.to_string()),
    }
}

/// `text` with `{site}` replaced by the site's name. A name that ends with a full stop
/// ("Lime Straps Co.") ends a sentence with it, not with two.
pub fn with_site(text: &str, site: &str) -> String {
    let text = if site.ends_with('.') {
        text.replace("{site}.", "{site}")
    } else {
        text.to_owned()
    };
    text.replace("{site}", site)
}

/// An address as a page shows it to whoever holds the link: enough to recognise it, not
/// to read it. `ada@example.com` → `a•••@example.com`.
pub fn masked(email: &str) -> String {
    let email = email.trim();
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}•••@{domain}")
        }
        None => "•••".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn promises_read_as_people_say_them() {
        assert_eq!(promise_time(&EN, 48), "2 days");
        assert_eq!(promise_time(&EN, 24), "a day");
        assert_eq!(promise_time(&EN, 1), "an hour");
        assert_eq!(promise_time(&EN, 36), "36 hours");
        assert_eq!(promise_time(&DE, 48), "2 Tagen");
    }

    #[test]
    fn a_name_with_a_full_stop_ends_the_sentence_once() {
        assert_eq!(
            with_site(EN.unsubscribed, "Lime Straps Co."),
            "Done: you will get no more email from Lime Straps Co."
        );
        assert_eq!(
            with_site(EN.page_title, "Lime"),
            "Your conversation with Lime"
        );
        assert_eq!(masked(" ada@example.com "), "a•••@example.com");
    }

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
                texts.ack_subject,
                texts.ack_body,
                texts.resolved_subject,
                texts.resolved_body,
                texts.promise,
                texts.hours,
                texts.one_hour,
                texts.days,
                texts.one_day,
                texts.unsubscribe,
                texts.unsubscribe_question,
                texts.unsubscribe_button,
                texts.unsubscribed,
                texts.unsubscribe_address,
                texts.answer_owed,
                texts.keep_reply_button,
                texts.unsubscribed_kept,
                texts.undo_hint,
                texts.undo_button,
                texts.resubscribed,
            ];
            assert!(
                all.iter().all(|text| !text.trim().is_empty()),
                "{}",
                texts.lang
            );
            assert!(texts.reply_subject.contains("{site}"), "{}", texts.lang);
            assert!(texts.page_title.contains("{site}"), "{}", texts.lang);
            assert!(texts.ack_body.contains("{promise}"), "{}", texts.lang);
            assert!(texts.promise.contains("{promise}"), "{}", texts.lang);
            assert!(
                texts.hours.contains("{n}") && texts.days.contains("{n}"),
                "{}",
                texts.lang
            );
            assert!(
                texts.unsubscribe_address.contains("{address}"),
                "{}",
                texts.lang
            );
            assert!(texts.answer_owed.contains("{date}"), "{}", texts.lang);
            assert!(texts.undo_hint.contains("{date}"), "{}", texts.lang);
            for text in [
                texts.ack_subject,
                texts.resolved_subject,
                texts.unsubscribed,
                texts.answer_owed,
                texts.unsubscribed_kept,
                texts.resubscribed,
            ] {
                assert!(text.contains("{site}"), "{}: {text}", texts.lang);
            }
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
