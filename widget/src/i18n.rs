//! The widget's visible text in every language it speaks. Every string a visitor sees comes
//! from here; a language is chosen by `data-lang`, else the browser's language, else English.

/// The text of the widget in one language. A language that misses a text does not compile;
/// the widget's tests also check that none is empty or left in English.
#[derive(Debug, PartialEq)]
pub struct Texts {
    /// The BCP 47 primary language subtag, e.g. `fr`.
    pub lang: &'static str,
    pub launcher: &'static str,
    pub title: &'static str,
    pub close: &'static str,
    pub rating_legend: &'static str,
    pub star_names: [&'static str; 5],
    pub comment_label: &'static str,
    pub comment_placeholder: &'static str,
    pub email_label: &'static str,
    pub email_hint: &'static str,
    pub honeypot_label: &'static str,
    pub submit: &'static str,
    pub sending: &'static str,
    pub thanks_title: &'static str,
    pub thanks_body: &'static str,
    pub queued_title: &'static str,
    /// Said when the feedback was kept because the browser is offline.
    pub queued_body: &'static str,
    /// Said instead of `queued_body` when the browser is online but the collector did not
    /// answer: the visitor's connection is not the problem.
    pub unreachable_body: &'static str,
    pub done: &'static str,
    pub choose_rating: &'static str,
    pub network_error: &'static str,
    pub server_error: &'static str,
    pub retry: &'static str,
    /// The question of the thumbs scale and of the inline block.
    pub helpful: &'static str,
    pub yes: &'static str,
    pub no: &'static str,
    /// The Net Promoter Score question, and the names of its two ends.
    pub nps_question: &'static str,
    pub nps_low: &'static str,
    pub nps_high: &'static str,
    /// The five faces of the satisfaction scale, worst first.
    pub emoji_names: [&'static str; 5],
}

pub const EN: Texts = Texts {
    lang: "en",
    launcher: "Feedback",
    title: "How was your visit?",
    close: "Close",
    rating_legend: "Your rating",
    star_names: ["1 star", "2 stars", "3 stars", "4 stars", "5 stars"],
    comment_label: "Tell us more (optional)",
    comment_placeholder: "What did you like? What could be better?",
    email_label: "Email (optional)",
    email_hint: "Only if you would like a reply.",
    honeypot_label: "Leave this field empty",
    submit: "Send feedback",
    sending: "Sending…",
    thanks_title: "Thank you!",
    thanks_body: "Your feedback was sent. We read every message.",
    queued_title: "Saved for later",
    queued_body: "You seem to be offline. Your feedback is kept in this browser and will be sent as soon as the connection is back.",
    unreachable_body: "We could not reach the feedback service; your feedback is kept and will be sent.",
    done: "Close",
    choose_rating: "Please choose a rating first.",
    network_error: "Your feedback could not be sent: the connection failed.",
    server_error: "Your feedback could not be sent. Please try again in a moment.",
    retry: "Try again",
    helpful: "Was this page helpful?",
    yes: "Yes",
    no: "No",
    nps_question: "How likely are you to recommend us to a friend or colleague?",
    nps_low: "Not at all likely",
    nps_high: "Extremely likely",
    emoji_names: [
        "Very dissatisfied",
        "Dissatisfied",
        "Neutral",
        "Satisfied",
        "Very satisfied",
    ],
};

pub const ES: Texts = Texts {
    lang: "es",
    launcher: "Opinión",
    title: "¿Qué tal tu visita?",
    close: "Cerrar",
    rating_legend: "Tu valoración",
    star_names: [
        "1 estrella",
        "2 estrellas",
        "3 estrellas",
        "4 estrellas",
        "5 estrellas",
    ],
    comment_label: "Cuéntanos más (opcional)",
    comment_placeholder: "¿Qué te gustó? ¿Qué podríamos mejorar?",
    email_label: "Correo electrónico (opcional)",
    email_hint: "Solo si quieres una respuesta.",
    honeypot_label: "Deja este campo vacío",
    submit: "Enviar opinión",
    sending: "Enviando…",
    thanks_title: "¡Gracias!",
    thanks_body: "Tu opinión se ha enviado. Leemos todos los mensajes.",
    queued_title: "Guardado para más tarde",
    queued_body: "Parece que no tienes conexión. Tu opinión se guarda en este navegador y se enviará en cuanto vuelva la conexión.",
    unreachable_body: "No pudimos contactar con el servicio de opiniones; tu opinión se guarda y se enviará.",
    done: "Cerrar",
    choose_rating: "Elige primero una valoración.",
    network_error: "No se pudo enviar tu opinión: falló la conexión.",
    server_error: "No se pudo enviar tu opinión. Inténtalo de nuevo en un momento.",
    retry: "Reintentar",
    helpful: "¿Te ha sido útil esta página?",
    yes: "Sí",
    no: "No",
    nps_question: "¿Qué probabilidad hay de que nos recomiendes a un amigo o colega?",
    nps_low: "Nada probable",
    nps_high: "Muy probable",
    emoji_names: [
        "Muy insatisfecho",
        "Insatisfecho",
        "Indiferente",
        "Satisfecho",
        "Muy satisfecho",
    ],
};

pub const FR: Texts = Texts {
    lang: "fr",
    launcher: "Votre avis",
    title: "Comment s’est passée votre visite ?",
    close: "Fermer",
    rating_legend: "Votre note",
    star_names: [
        "1 étoile",
        "2 étoiles",
        "3 étoiles",
        "4 étoiles",
        "5 étoiles",
    ],
    comment_label: "Dites-nous en plus (facultatif)",
    comment_placeholder: "Qu’avez-vous aimé ? Que pourrions-nous améliorer ?",
    email_label: "E-mail (facultatif)",
    email_hint: "Seulement si vous souhaitez une réponse.",
    honeypot_label: "Laissez ce champ vide",
    submit: "Envoyer",
    sending: "Envoi…",
    thanks_title: "Merci !",
    thanks_body: "Votre avis a été envoyé. Nous lisons chaque message.",
    queued_title: "Enregistré pour plus tard",
    queued_body: "Vous semblez hors ligne. Votre avis est conservé dans ce navigateur et sera envoyé dès le retour de la connexion.",
    unreachable_body: "Nous n’avons pas pu joindre le service d’avis ; votre avis est conservé et sera envoyé.",
    done: "Fermer",
    choose_rating: "Choisissez d’abord une note.",
    network_error: "Votre avis n’a pas pu être envoyé : la connexion a échoué.",
    server_error: "Votre avis n’a pas pu être envoyé. Réessayez dans un instant.",
    retry: "Réessayer",
    helpful: "Cette page vous a-t-elle été utile ?",
    yes: "Oui",
    no: "Non",
    nps_question: "Quelle est la probabilité que vous nous recommandiez à un ami ou un collègue ?",
    nps_low: "Pas du tout probable",
    nps_high: "Très probable",
    emoji_names: [
        "Très insatisfait",
        "Insatisfait",
        "Neutre",
        "Satisfait",
        "Très satisfait",
    ],
};

pub const DE: Texts = Texts {
    lang: "de",
    launcher: "Feedback geben",
    title: "Wie war Ihr Besuch?",
    close: "Schließen",
    rating_legend: "Ihre Bewertung",
    star_names: ["1 Stern", "2 Sterne", "3 Sterne", "4 Sterne", "5 Sterne"],
    comment_label: "Erzählen Sie uns mehr (optional)",
    comment_placeholder: "Was hat Ihnen gefallen? Was können wir besser machen?",
    email_label: "E-Mail (optional)",
    email_hint: "Nur wenn Sie eine Antwort wünschen.",
    honeypot_label: "Dieses Feld leer lassen",
    submit: "Feedback senden",
    sending: "Wird gesendet…",
    thanks_title: "Vielen Dank!",
    thanks_body: "Ihr Feedback wurde gesendet. Wir lesen jede Nachricht.",
    queued_title: "Für später gespeichert",
    queued_body: "Sie scheinen offline zu sein. Ihr Feedback bleibt in diesem Browser gespeichert und wird gesendet, sobald die Verbindung zurück ist.",
    unreachable_body: "Wir konnten den Feedback-Dienst nicht erreichen; Ihr Feedback bleibt gespeichert und wird gesendet.",
    done: "Schließen",
    choose_rating: "Bitte wählen Sie zuerst eine Bewertung.",
    network_error: "Ihr Feedback konnte nicht gesendet werden: Die Verbindung ist fehlgeschlagen.",
    server_error: "Ihr Feedback konnte nicht gesendet werden. Bitte versuchen Sie es gleich noch einmal.",
    retry: "Erneut versuchen",
    helpful: "War diese Seite hilfreich?",
    yes: "Ja",
    no: "Nein",
    nps_question: "Wie wahrscheinlich ist es, dass Sie uns einem Freund oder Kollegen empfehlen?",
    nps_low: "Sehr unwahrscheinlich",
    nps_high: "Sehr wahrscheinlich",
    emoji_names: [
        "Sehr unzufrieden",
        "Unzufrieden",
        "Neutral",
        "Zufrieden",
        "Sehr zufrieden",
    ],
};

pub const PT: Texts = Texts {
    lang: "pt",
    launcher: "Opinião",
    title: "Como foi a sua visita?",
    close: "Fechar",
    rating_legend: "A sua avaliação",
    star_names: [
        "1 estrela",
        "2 estrelas",
        "3 estrelas",
        "4 estrelas",
        "5 estrelas",
    ],
    comment_label: "Conte-nos mais (opcional)",
    comment_placeholder: "Do que gostou? O que podemos melhorar?",
    email_label: "E-mail (opcional)",
    email_hint: "Apenas se quiser uma resposta.",
    honeypot_label: "Deixe este campo vazio",
    submit: "Enviar opinião",
    sending: "A enviar…",
    thanks_title: "Obrigado!",
    thanks_body: "A sua opinião foi enviada. Lemos todas as mensagens.",
    queued_title: "Guardado para mais tarde",
    queued_body: "Parece estar sem ligação. A sua opinião fica guardada neste navegador e será enviada assim que a ligação voltar.",
    unreachable_body: "Não conseguimos contactar o serviço de opiniões; a sua opinião fica guardada e será enviada.",
    done: "Fechar",
    choose_rating: "Escolha primeiro uma avaliação.",
    network_error: "Não foi possível enviar a sua opinião: a ligação falhou.",
    server_error: "Não foi possível enviar a sua opinião. Tente novamente daqui a pouco.",
    retry: "Tentar de novo",
    helpful: "Esta página foi útil?",
    yes: "Sim",
    no: "Não",
    nps_question: "Qual a probabilidade de nos recomendar a um amigo ou colega?",
    nps_low: "Nada provável",
    nps_high: "Muito provável",
    emoji_names: [
        "Muito insatisfeito",
        "Insatisfeito",
        "Neutro",
        "Satisfeito",
        "Muito satisfeito",
    ],
};

pub const JA: Texts = Texts {
    lang: "ja",
    launcher: "ご意見",
    title: "ご訪問はいかがでしたか？",
    close: "閉じる",
    rating_legend: "評価",
    star_names: ["星1つ", "星2つ", "星3つ", "星4つ", "星5つ"],
    comment_label: "詳しく教えてください（任意）",
    comment_placeholder: "良かった点や改善できる点をお聞かせください。",
    email_label: "メールアドレス（任意）",
    email_hint: "返信をご希望の場合のみ。",
    honeypot_label: "この欄は空のままにしてください",
    submit: "送信する",
    sending: "送信中…",
    thanks_title: "ありがとうございます！",
    thanks_body: "ご意見を送信しました。すべてのメッセージに目を通しています。",
    queued_title: "後で送信します",
    queued_body: "オフラインのようです。ご意見はこのブラウザに保存され、接続が戻りしだい送信されます。",
    unreachable_body: "フィードバックサービスに接続できませんでした。ご意見は保存され、後で送信されます。",
    done: "閉じる",
    choose_rating: "先に評価を選んでください。",
    network_error: "送信できませんでした：接続に失敗しました。",
    server_error: "送信できませんでした。しばらくしてからもう一度お試しください。",
    retry: "再試行",
    helpful: "このページは役に立ちましたか？",
    yes: "はい",
    no: "いいえ",
    nps_question: "友人や同僚に私たちを勧める可能性はどのくらいありますか？",
    nps_low: "まったく勧めない",
    nps_high: "ぜひ勧めたい",
    emoji_names: ["とても不満", "不満", "どちらでもない", "満足", "とても満足"],
};

pub const ZH: Texts = Texts {
    lang: "zh",
    launcher: "意见反馈",
    title: "您这次访问体验如何？",
    close: "关闭",
    rating_legend: "您的评分",
    star_names: ["1 星", "2 星", "3 星", "4 星", "5 星"],
    comment_label: "告诉我们更多（选填）",
    comment_placeholder: "您喜欢什么？有什么可以改进？",
    email_label: "电子邮箱（选填）",
    email_hint: "仅在您希望收到回复时填写。",
    honeypot_label: "请将此栏留空",
    submit: "提交反馈",
    sending: "正在发送…",
    thanks_title: "谢谢！",
    thanks_body: "您的反馈已发送。我们会阅读每一条留言。",
    queued_title: "已保存，稍后发送",
    queued_body: "您似乎处于离线状态。您的反馈已保存在此浏览器中，连接恢复后将自动发送。",
    unreachable_body: "无法连接反馈服务；您的反馈已保存，稍后将发送。",
    done: "关闭",
    choose_rating: "请先选择评分。",
    network_error: "反馈未能发送：连接失败。",
    server_error: "反馈未能发送，请稍后再试。",
    retry: "重试",
    helpful: "此页面对您有帮助吗？",
    yes: "是",
    no: "否",
    nps_question: "您向朋友或同事推荐我们的可能性有多大？",
    nps_low: "完全不可能",
    nps_high: "极有可能",
    emoji_names: ["非常不满意", "不满意", "一般", "满意", "非常满意"],
};

/// Every language built in, English first.
pub const LANGUAGES: [&Texts; 7] = [&EN, &ES, &FR, &DE, &PT, &JA, &ZH];

/// The texts for a language tag such as `fr-CA` (matched on its primary subtag), if built in.
pub fn for_tag(tag: &str) -> Option<&'static Texts> {
    let primary = tag.split(['-', '_']).next()?.trim().to_ascii_lowercase();
    LANGUAGES.into_iter().find(|texts| texts.lang == primary)
}

/// The widget's language: `data-lang`, else the browser's first language we speak, else
/// English.
pub fn texts(configured: Option<&str>) -> &'static Texts {
    if let Some(texts) = configured.and_then(for_tag) {
        return texts;
    }
    let browser = gloo::utils::window().navigator();
    browser
        .languages()
        .iter()
        .filter_map(|lang| lang.as_string())
        .chain(browser.language())
        .find_map(|tag| for_tag(&tag))
        .unwrap_or(&EN)
}
