//! The widget's visible text in every language it speaks: every string a visitor sees in the
//! widget comes from here. The collector serves one language at a time
//! (`GET /widget/texts/{lang}`), which the loader fetches beside the wasm; the wasm itself
//! holds English only, so that a visitor downloads one language, not seven.

/// The text of the widget in one language. A language that misses a text does not compile;
/// the widget's tests also check that none is empty or left in English.
#[derive(Debug, PartialEq, serde::Serialize)]
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
    /// The button that attaches a picture of the page (shown when the site accepts
    /// screenshots); what follows it speaks [`ShotTexts`].
    pub screenshot: &'static str,
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
    screenshot: "Add a screenshot",
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
    screenshot: "Añadir una captura de pantalla",
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
    screenshot: "Ajouter une capture d’écran",
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
    screenshot: "Screenshot hinzufügen",
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
    screenshot: "Adicionar uma captura de ecrã",
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
    screenshot: "スクリーンショットを追加",
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
    screenshot: "添加截图",
};

/// Every language built in, English first.
pub const LANGUAGES: [&Texts; 7] = [&EN, &ES, &FR, &DE, &PT, &JA, &ZH];

/// The texts for a language tag such as `fr-CA` (matched on its primary subtag), if built in.
pub fn for_tag(tag: &str) -> Option<&'static Texts> {
    let primary = tag.split(['-', '_']).next()?.trim().to_ascii_lowercase();
    LANGUAGES.into_iter().find(|texts| texts.lang == primary)
}

/// What the screenshot editor says (`www/earshot-shot.js`, loaded only when a visitor
/// asks to add a screenshot). Served beside [`Texts`] by `GET /widget/texts/{lang}`, under
/// `shot`; the wasm never holds these.
#[derive(Debug, PartialEq, serde::Serialize)]
pub struct ShotTexts {
    pub lang: &'static str,
    /// The editor's title.
    pub title: &'static str,
    /// How to draw, with a pointer and with the keyboard (read by screen readers too).
    pub help: &'static str,
    /// How to draw on a touch screen with no keyboard or mouse.
    pub help_touch: &'static str,
    /// The picture's name for screen readers.
    pub picture: &'static str,
    pub highlight: &'static str,
    pub black_out: &'static str,
    pub undo: &'static str,
    /// Said when a mark is drawn or undone.
    pub highlight_added: &'static str,
    pub black_out_added: &'static str,
    pub undone: &'static str,
    /// Keeps the picture with the feedback and closes the editor.
    pub attach: &'static str,
    /// Closes the editor and leaves things as they were (Escape does the same).
    pub cancel: &'static str,
    pub remove: &'static str,
    pub edit: &'static str,
    /// The thumbnail's name once attached.
    pub attached: &'static str,
    pub choose_file: &'static str,
    /// On a phone, before the picker opens: what to pick, and how to take a screenshot first.
    pub pick_hint: &'static str,
    /// The visitor cancelled sharing the tab (or the browser refused): not an error; beside
    /// "Choose an image" and "Try again" ([`ShotTexts::retry`]).
    pub capture_refused: &'static str,
    pub unreadable: &'static str,
    /// After the feedback is sent, how its screenshot fares.
    pub sending: &'static str,
    pub sent: &'static str,
    /// Sent, with fewer pixels than the visitor's picture had (to fit the size limits).
    pub sent_smaller: &'static str,
    /// Offline: kept with the feedback in this browser.
    pub kept: &'static str,
    /// The upload failed for now; kept and tried again.
    pub failed: &'static str,
    /// The button that sends it again at once (and takes the tab again after a cancel).
    pub retry: &'static str,
    /// The collector refused it for good.
    pub refused: &'static str,
    /// It cannot be kept in this browser (no IndexedDB), so it is lost.
    pub dropped: &'static str,
}

pub const SHOT_EN: ShotTexts = ShotTexts {
    lang: "en",
    title: "Mark up your screenshot",
    help: "Drag over the picture to draw a rectangle. With the keyboard: arrow keys move the frame, Page Up, Page Down, Home and End move it further, Shift with these keys resizes it, Enter draws it.",
    help_touch: "Choose Highlight or Black out, then draw a rectangle over the picture with your finger.",
    picture: "Your screenshot",
    highlight: "Highlight",
    black_out: "Black out",
    undo: "Undo",
    highlight_added: "Highlight added.",
    black_out_added: "Area blacked out.",
    undone: "Last mark removed.",
    attach: "Attach",
    cancel: "Cancel",
    remove: "Remove screenshot",
    edit: "Edit screenshot",
    attached: "Screenshot attached",
    choose_file: "Choose an image",
    pick_hint: "Choose a screenshot or photo of the problem. No screenshot yet? Close this form, take one, then come back: what you wrote is kept.",
    capture_refused: "No screenshot was taken. You can try again or choose an image.",
    unreadable: "This file could not be read. Choose a PNG, JPEG or WebP image.",
    sending: "Sending your screenshot…",
    sent: "Your screenshot was sent too.",
    sent_smaller: "Your screenshot was sent too, made smaller to fit the size limit.",
    kept: "Your screenshot is kept with your feedback and will be sent with it.",
    failed: "Your screenshot could not be sent yet. It is kept in this browser and will be sent again.",
    retry: "Try again",
    refused: "Your screenshot was not accepted; your feedback was sent without it.",
    dropped: "This browser cannot keep your screenshot, so it will not be sent. Your feedback is kept without it.",
};

pub const SHOT_ES: ShotTexts = ShotTexts {
    lang: "es",
    title: "Marque su captura de pantalla",
    help: "Arrastre sobre la imagen para dibujar un rectángulo. Con el teclado: las flechas mueven el marco, Re Pág, Av Pág, Inicio y Fin lo mueven más lejos, Mayús con estas teclas cambia su tamaño, Intro lo dibuja.",
    help_touch: "Elija Resaltar o Tapar y dibuje con el dedo un rectángulo sobre la imagen.",
    picture: "Su captura de pantalla",
    highlight: "Resaltar",
    black_out: "Tapar",
    undo: "Deshacer",
    highlight_added: "Resaltado añadido.",
    black_out_added: "Zona tapada.",
    undone: "Última marca eliminada.",
    attach: "Adjuntar",
    cancel: "Cancelar",
    remove: "Quitar la captura",
    edit: "Editar la captura",
    attached: "Captura adjunta",
    choose_file: "Elegir una imagen",
    pick_hint: "Elija una captura o una foto del problema. ¿Aún no tiene una captura? Cierre este formulario, haga una y vuelva: lo que escribió se conserva.",
    capture_refused: "No se tomó ninguna captura. Puede reintentar o elegir una imagen.",
    unreadable: "No se pudo leer este archivo. Elija una imagen PNG, JPEG o WebP.",
    sending: "Enviando su captura…",
    sent: "Su captura también se envió.",
    sent_smaller: "Su captura también se envió, reducida para no superar el tamaño máximo.",
    kept: "Su captura se guarda con su opinión y se enviará con ella.",
    failed: "Su captura aún no se pudo enviar. Se guarda en este navegador y se enviará de nuevo.",
    retry: "Reintentar",
    refused: "Su captura no fue aceptada; su opinión se envió sin ella.",
    dropped: "Este navegador no puede guardar su captura, así que no se enviará. Su opinión se guarda sin ella.",
};

pub const SHOT_FR: ShotTexts = ShotTexts {
    lang: "fr",
    title: "Annotez votre capture d’écran",
    help: "Faites glisser sur l’image pour tracer un rectangle. Au clavier : les flèches déplacent le cadre, Page préc., Page suiv., Début et Fin le déplacent plus loin, Maj avec ces touches le redimensionne, Entrée le trace.",
    help_touch: "Choisissez Surligner ou Masquer, puis tracez un rectangle du doigt sur l’image.",
    picture: "Votre capture d’écran",
    highlight: "Surligner",
    black_out: "Masquer",
    undo: "Défaire",
    highlight_added: "Surlignage ajouté.",
    black_out_added: "Zone masquée.",
    undone: "Dernière marque retirée.",
    attach: "Joindre",
    cancel: "Annuler",
    remove: "Retirer la capture",
    edit: "Modifier la capture",
    attached: "Capture jointe",
    choose_file: "Choisir une image",
    pick_hint: "Choisissez une capture d’écran ou une photo du problème. Pas encore de capture ? Fermez ce formulaire, prenez-en une, puis revenez : ce que vous avez écrit est conservé.",
    capture_refused: "Aucune capture n’a été prise. Vous pouvez réessayer ou choisir une image.",
    unreadable: "Ce fichier n’a pas pu être lu. Choisissez une image PNG, JPEG ou WebP.",
    sending: "Envoi de votre capture…",
    sent: "Votre capture a été envoyée aussi.",
    sent_smaller: "Votre capture a été envoyée aussi, réduite pour respecter la taille maximale.",
    kept: "Votre capture est conservée avec votre avis et sera envoyée avec lui.",
    failed: "Votre capture n’a pas encore pu être envoyée. Elle est conservée dans ce navigateur et sera renvoyée.",
    retry: "Réessayer",
    refused: "Votre capture n’a pas été acceptée ; votre avis a été envoyé sans elle.",
    dropped: "Ce navigateur ne peut pas conserver votre capture : elle ne sera pas envoyée. Votre avis est conservé sans elle.",
};

pub const SHOT_DE: ShotTexts = ShotTexts {
    lang: "de",
    title: "Screenshot markieren",
    help: "Ziehen Sie über das Bild, um ein Rechteck zu zeichnen. Mit der Tastatur: Pfeiltasten verschieben den Rahmen, Bild auf, Bild ab, Pos1 und Ende verschieben ihn weiter, Umschalt mit diesen Tasten ändert seine Größe, Eingabe zeichnet ihn.",
    help_touch: "Wählen Sie Hervorheben oder Schwärzen und zeichnen Sie dann mit dem Finger ein Rechteck über das Bild.",
    picture: "Ihr Screenshot",
    highlight: "Hervorheben",
    black_out: "Schwärzen",
    undo: "Rückgängig",
    highlight_added: "Hervorhebung hinzugefügt.",
    black_out_added: "Bereich geschwärzt.",
    undone: "Letzte Markierung entfernt.",
    attach: "Anhängen",
    cancel: "Abbrechen",
    remove: "Screenshot entfernen",
    edit: "Screenshot bearbeiten",
    attached: "Screenshot angehängt",
    choose_file: "Bild auswählen",
    pick_hint: "Wählen Sie einen Screenshot oder ein Foto des Problems. Noch keinen Screenshot? Schließen Sie dieses Formular, nehmen Sie einen auf und kommen Sie zurück: Ihr Text bleibt erhalten.",
    capture_refused: "Es wurde kein Screenshot aufgenommen. Sie können es erneut versuchen oder ein Bild auswählen.",
    unreadable: "Diese Datei konnte nicht gelesen werden. Wählen Sie ein PNG-, JPEG- oder WebP-Bild.",
    sending: "Ihr Screenshot wird gesendet…",
    sent: "Ihr Screenshot wurde ebenfalls gesendet.",
    sent_smaller: "Ihr Screenshot wurde ebenfalls gesendet, verkleinert auf die zulässige Größe.",
    kept: "Ihr Screenshot wird mit Ihrem Feedback aufbewahrt und mit ihm gesendet.",
    failed: "Ihr Screenshot konnte noch nicht gesendet werden. Er wird in diesem Browser aufbewahrt und erneut gesendet.",
    retry: "Erneut versuchen",
    refused: "Ihr Screenshot wurde nicht angenommen; Ihr Feedback wurde ohne ihn gesendet.",
    dropped: "Dieser Browser kann Ihren Screenshot nicht aufbewahren, daher wird er nicht gesendet. Ihr Feedback bleibt ohne ihn erhalten.",
};

pub const SHOT_PT: ShotTexts = ShotTexts {
    lang: "pt",
    title: "Assinale na sua captura de ecrã",
    help: "Arraste sobre a imagem para desenhar um retângulo. Com o teclado: as setas movem a moldura, Page Up, Page Down, Home e End movem-na mais longe, Shift com estas teclas muda o seu tamanho, Enter desenha-a.",
    help_touch: "Escolha Realçar ou Tapar e desenhe com o dedo um retângulo sobre a imagem.",
    picture: "A sua captura de ecrã",
    highlight: "Realçar",
    black_out: "Tapar",
    undo: "Desfazer",
    highlight_added: "Realce adicionado.",
    black_out_added: "Área tapada.",
    undone: "Última marca removida.",
    attach: "Anexar",
    cancel: "Cancelar",
    remove: "Remover a captura",
    edit: "Editar a captura",
    attached: "Captura anexada",
    choose_file: "Escolher uma imagem",
    pick_hint: "Escolha uma captura de ecrã ou uma foto do problema. Ainda não tem uma captura? Feche este formulário, tire uma e volte: o que escreveu fica guardado.",
    capture_refused: "Nenhuma captura foi tirada. Pode tentar de novo ou escolher uma imagem.",
    unreadable: "Não foi possível ler este ficheiro. Escolha uma imagem PNG, JPEG ou WebP.",
    sending: "A enviar a sua captura…",
    sent: "A sua captura também foi enviada.",
    sent_smaller: "A sua captura também foi enviada, reduzida para caber no tamanho máximo.",
    kept: "A sua captura fica guardada com a sua opinião e será enviada com ela.",
    failed: "Ainda não foi possível enviar a sua captura. Fica guardada neste navegador e será enviada de novo.",
    retry: "Tentar de novo",
    refused: "A sua captura não foi aceite; a sua opinião foi enviada sem ela.",
    dropped: "Este navegador não consegue guardar a sua captura, por isso não será enviada. A sua opinião fica guardada sem ela.",
};

pub const SHOT_JA: ShotTexts = ShotTexts {
    lang: "ja",
    title: "スクリーンショットに印を付ける",
    help: "画像の上をドラッグして四角形を描きます。キーボードでは、矢印キーで枠を移動、Page Up・Page Down・Home・End で大きく移動、これらのキーと Shift で大きさを変更、Enter で描きます。",
    help_touch: "「強調」か「黒塗り」を選び、画像の上を指でなぞって四角形を描きます。",
    picture: "あなたのスクリーンショット",
    highlight: "強調",
    black_out: "黒塗り",
    undo: "元に戻す",
    highlight_added: "強調を追加しました。",
    black_out_added: "黒塗りしました。",
    undone: "最後の印を取り消しました。",
    attach: "添付",
    cancel: "キャンセル",
    remove: "スクリーンショットを削除",
    edit: "スクリーンショットを編集",
    attached: "スクリーンショットを添付しました",
    choose_file: "画像を選ぶ",
    pick_hint: "問題のスクリーンショットか写真を選んでください。まだ撮っていない場合は、このフォームを閉じて撮影してから戻ってください。入力した内容は残ります。",
    capture_refused: "スクリーンショットは撮影されませんでした。再試行するか、画像を選べます。",
    unreadable: "このファイルを読み込めませんでした。PNG、JPEG、WebP の画像を選んでください。",
    sending: "スクリーンショットを送信中…",
    sent: "スクリーンショットも送信しました。",
    sent_smaller: "スクリーンショットも送信しました。サイズ上限に合わせて縮小しています。",
    kept: "スクリーンショットはご意見と一緒に保存され、一緒に送信されます。",
    failed: "スクリーンショットをまだ送信できません。このブラウザに保存し、もう一度送信します。",
    retry: "再試行",
    refused: "スクリーンショットは受け付けられませんでした。ご意見はスクリーンショットなしで送信しました。",
    dropped: "このブラウザではスクリーンショットを保存できないため、送信されません。ご意見はスクリーンショットなしで保存されています。",
};

pub const SHOT_ZH: ShotTexts = ShotTexts {
    lang: "zh",
    title: "在截图上标注",
    help: "在图片上拖动以绘制矩形。使用键盘：方向键移动框，Page Up、Page Down、Home 和 End 移动得更远，Shift 加这些键调整大小，Enter 绘制。",
    help_touch: "选择“突出显示”或“涂黑”，然后用手指在图片上画一个矩形。",
    picture: "您的截图",
    highlight: "突出显示",
    black_out: "涂黑",
    undo: "撤销",
    highlight_added: "已添加突出显示。",
    black_out_added: "已涂黑该区域。",
    undone: "已移除上一个标记。",
    attach: "附加",
    cancel: "取消",
    remove: "移除截图",
    edit: "编辑截图",
    attached: "已附加截图",
    choose_file: "选择图片",
    pick_hint: "请选择问题的截图或照片。还没有截图？请关闭此表单，截图后再回来：您写的内容会保留。",
    capture_refused: "未截取截图。您可以重试或选择一张图片。",
    unreadable: "无法读取此文件。请选择 PNG、JPEG 或 WebP 图片。",
    sending: "正在发送您的截图…",
    sent: "您的截图也已发送。",
    sent_smaller: "您的截图也已发送，已缩小以符合大小限制。",
    kept: "您的截图与反馈一起保存，并将一起发送。",
    failed: "您的截图暂时无法发送。它保存在此浏览器中，稍后会再次发送。",
    retry: "重试",
    refused: "您的截图未被接受；您的反馈已在没有截图的情况下发送。",
    dropped: "此浏览器无法保存您的截图，因此不会发送。您的反馈已在没有截图的情况下保存。",
};

/// The screenshot editor's texts, in the order of [`LANGUAGES`].
pub const SHOT_LANGUAGES: [&ShotTexts; 7] = [
    &SHOT_EN, &SHOT_ES, &SHOT_FR, &SHOT_DE, &SHOT_PT, &SHOT_JA, &SHOT_ZH,
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Every editor text is there and translated, in the languages of the widget's texts.
    #[test]
    fn every_screenshot_text_is_translated() {
        for (shot, texts) in SHOT_LANGUAGES.iter().zip(LANGUAGES) {
            assert_eq!(shot.lang, texts.lang);
            let json = serde_json::to_value(shot).unwrap();
            let english = serde_json::to_value(&SHOT_EN).unwrap();
            for (name, text) in json.as_object().unwrap() {
                let text = text.as_str().unwrap();
                assert!(!text.trim().is_empty(), "{}: {name} is empty", shot.lang);
                if shot.lang != "en" && name != "lang" {
                    assert_ne!(text, english[name], "{}: {name} is in English", shot.lang);
                }
            }
        }
    }
}
