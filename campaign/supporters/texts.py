"""The words of the supporter-facing pages and emails, in the languages the
network writes in. Missing keys fall back to English."""

from __future__ import annotations

from campaign.supporters.vocabulary import PUBLIC_LANGUAGES

EN = {
    "email_invalid": "Enter a valid email address, like name@example.org.",
    "signup_title": "Join the Urgent Action network",
    "signup_intro": (
        "When someone is at immediate risk, we email you a short appeal to send to the "
        "officials who can help. It takes a few minutes, and it works."
    ),
    "email": "Email address",
    "first_name": "First name",
    "last_name": "Last name",
    "language": "Language",
    "country": "Country",
    "city": "City",
    "interests": "What you care about most (optional)",
    "consent": "I want to receive Urgent Action emails. I can unsubscribe at any time.",
    "consent_required": "Tick the box to agree to receive our emails.",
    "submit": "Sign up",
    "check_title": "Check your inbox",
    "check_text": (
        "If this address can be signed up, we have sent it an email with a link to confirm. "
        "The link works for {days} days. Nothing arrived? Look in the spam folder."
    ),
    "confirm_subject": "Confirm your Urgent Action sign-up",
    "confirm_intro": (
        "Please confirm that you want to receive Urgent Action emails at this address:"
    ),
    "confirm_button": "Yes, sign me up",
    "confirm_ignore": "If you did not sign up, ignore this email: nothing will be sent to you.",
    "confirmed_title": "You are signed up",
    "confirmed_text": "Thank you. Your first Urgent Action will reach you soon.",
    "already_title": "Already confirmed",
    "already_text": "This address is already signed up.",
    "invalid_title": "This link does not work",
    "preferences_title": "Your preferences",
    "preferences_intro": "Choose the language of our emails and what you care about.",
    "save": "Save",
    "saved": "Your preferences are saved.",
    "unsubscribe_title": "Unsubscribe",
    "unsubscribe_question": "Stop all Urgent Action emails to {email}?",
    "unsubscribe_button": "Unsubscribe",
    "unsubscribed_title": "You are unsubscribed",
    "unsubscribed_text": "We will not email you again. Thank you for your support.",
    "unsubscribe_link": "Unsubscribe from all emails",
    "preferences_link": "Change your preferences",
    "state_unsubscribed": "This address is unsubscribed and receives no emails.",
}

FR = {
    "email_invalid": "Saisissez une adresse e-mail valide, par exemple nom@example.org.",
    "signup_title": "Rejoignez le réseau Actions urgentes",
    "signup_intro": (
        "Quand une personne est en danger immédiat, nous vous envoyons un court appel à adresser "
        "aux autorités qui peuvent agir. Cela prend quelques minutes, et cela fonctionne."
    ),
    "email": "Adresse e-mail",
    "first_name": "Prénom",
    "last_name": "Nom",
    "language": "Langue",
    "country": "Pays",
    "city": "Ville",
    "interests": "Ce qui vous tient le plus à cœur (facultatif)",
    "consent": (
        "Je souhaite recevoir les e-mails Actions urgentes. Je peux me désabonner à tout moment."
    ),
    "consent_required": "Cochez la case pour accepter de recevoir nos e-mails.",
    "submit": "S'inscrire",
    "check_title": "Consultez votre boîte de réception",
    "check_text": (
        "Si cette adresse peut être inscrite, nous lui avons envoyé un e-mail avec un lien de "
        "confirmation, valable {days} jours. Rien reçu ? Regardez dans les indésirables."
    ),
    "confirm_subject": "Confirmez votre inscription aux Actions urgentes",
    "confirm_intro": (
        "Merci de confirmer que vous souhaitez recevoir les Actions urgentes à cette adresse :"
    ),
    "confirm_button": "Oui, je m'inscris",
    "confirm_ignore": (
        "Si vous ne vous êtes pas inscrit·e, ignorez cet e-mail : rien ne vous sera envoyé."
    ),
    "confirmed_title": "Vous êtes inscrit·e",
    "confirmed_text": "Merci. Votre première Action urgente vous parviendra bientôt.",
    "already_title": "Déjà confirmé",
    "already_text": "Cette adresse est déjà inscrite.",
    "invalid_title": "Ce lien ne fonctionne pas",
    "preferences_title": "Vos préférences",
    "preferences_intro": "Choisissez la langue de nos e-mails et les sujets qui vous intéressent.",
    "save": "Enregistrer",
    "saved": "Vos préférences sont enregistrées.",
    "unsubscribe_title": "Se désabonner",
    "unsubscribe_question": "Arrêter tous les e-mails Actions urgentes vers {email} ?",
    "unsubscribe_button": "Me désabonner",
    "unsubscribed_title": "Vous êtes désabonné·e",
    "unsubscribed_text": "Nous ne vous écrirons plus. Merci pour votre soutien.",
    "unsubscribe_link": "Se désabonner de tous les e-mails",
    "preferences_link": "Modifier vos préférences",
    "state_unsubscribed": "Cette adresse est désabonnée et ne reçoit aucun e-mail.",
}

ES = {
    "email_invalid": "Escribe una dirección de correo válida, como nombre@example.org.",
    "signup_title": "Únete a la red de Acciones Urgentes",
    "signup_intro": (
        "Cuando alguien corre un peligro inmediato, te enviamos un breve llamamiento para las "
        "autoridades que pueden ayudar. Lleva unos minutos y funciona."
    ),
    "email": "Correo electrónico",
    "first_name": "Nombre",
    "last_name": "Apellidos",
    "language": "Idioma",
    "country": "País",
    "city": "Ciudad",
    "interests": "Lo que más te importa (opcional)",
    "consent": (
        "Quiero recibir los correos de Acciones Urgentes. Puedo darme de baja en cualquier momento."
    ),
    "consent_required": "Marca la casilla para aceptar recibir nuestros correos.",
    "submit": "Inscribirme",
    "check_title": "Revisa tu bandeja de entrada",
    "check_text": (
        "Si esta dirección puede inscribirse, le hemos enviado un correo con un enlace de "
        "confirmación válido durante {days} días. ¿No ha llegado? Mira en la carpeta de spam."
    ),
    "confirm_subject": "Confirma tu inscripción en Acciones Urgentes",
    "confirm_intro": "Confirma que quieres recibir Acciones Urgentes en esta dirección:",
    "confirm_button": "Sí, inscribirme",
    "confirm_ignore": "Si no te has inscrito, ignora este correo: no te enviaremos nada.",
    "confirmed_title": "Ya estás inscrito/a",
    "confirmed_text": "Gracias. Pronto recibirás tu primera Acción Urgente.",
    "already_title": "Ya confirmado",
    "already_text": "Esta dirección ya está inscrita.",
    "invalid_title": "Este enlace no funciona",
    "preferences_title": "Tus preferencias",
    "preferences_intro": "Elige el idioma de nuestros correos y los temas que te interesan.",
    "save": "Guardar",
    "saved": "Tus preferencias se han guardado.",
    "unsubscribe_title": "Darse de baja",
    "unsubscribe_question": "¿Dejar de enviar correos de Acciones Urgentes a {email}?",
    "unsubscribe_button": "Darme de baja",
    "unsubscribed_title": "Te has dado de baja",
    "unsubscribed_text": "No volveremos a escribirte. Gracias por tu apoyo.",
    "unsubscribe_link": "Darse de baja de todos los correos",
    "preferences_link": "Cambiar tus preferencias",
    "state_unsubscribed": "Esta dirección está dada de baja y no recibe correos.",
}

RU = {
    "email_invalid": "Введите правильный адрес электронной почты, например name@example.org.",
    "signup_title": "Присоединяйтесь к сети срочных акций",
    "signup_intro": (
        "Когда человеку грозит непосредственная опасность, мы присылаем вам короткое обращение "
        "к должностным лицам, которые могут помочь. Это займёт несколько минут, и это работает."
    ),
    "email": "Адрес электронной почты",
    "first_name": "Имя",
    "last_name": "Фамилия",
    "language": "Язык",
    "country": "Страна",
    "city": "Город",
    "interests": "Что для вас важнее всего (необязательно)",
    "consent": "Я хочу получать письма о срочных акциях. Я могу отписаться в любой момент.",
    "consent_required": "Отметьте поле, чтобы согласиться получать наши письма.",
    "submit": "Подписаться",
    "check_title": "Проверьте почту",
    "check_text": (
        "Если этот адрес можно подписать, мы отправили на него письмо со ссылкой для "
        "подтверждения. Ссылка действует {days} дней. Письма нет? Проверьте папку «Спам»."
    ),
    "confirm_subject": "Подтвердите подписку на срочные акции",
    "confirm_intro": "Подтвердите, что хотите получать письма о срочных акциях на этот адрес:",
    "confirm_button": "Да, подписаться",
    "confirm_ignore": "Если вы не подписывались, просто проигнорируйте это письмо.",
    "confirmed_title": "Вы подписаны",
    "confirmed_text": "Спасибо. Скоро вы получите первую срочную акцию.",
    "already_title": "Уже подтверждено",
    "already_text": "Этот адрес уже подписан.",
    "invalid_title": "Ссылка не работает",
    "preferences_title": "Ваши настройки",
    "preferences_intro": "Выберите язык писем и темы, которые вам важны.",
    "save": "Сохранить",
    "saved": "Настройки сохранены.",
    "unsubscribe_title": "Отписаться",
    "unsubscribe_question": "Прекратить все письма о срочных акциях на {email}?",
    "unsubscribe_button": "Отписаться",
    "unsubscribed_title": "Вы отписаны",
    "unsubscribed_text": "Мы больше не будем вам писать. Спасибо за поддержку.",
    "unsubscribe_link": "Отписаться от всех писем",
    "preferences_link": "Изменить настройки",
    "state_unsubscribed": "Этот адрес отписан и не получает писем.",
}

UK = {
    "email_invalid": "Введіть правильну адресу електронної пошти, наприклад name@example.org.",
    "signup_title": "Долучайтеся до мережі термінових акцій",
    "signup_intro": (
        "Коли людині загрожує безпосередня небезпека, ми надсилаємо вам коротке звернення до "
        "посадовців, які можуть допомогти. Це займе кілька хвилин, і це працює."
    ),
    "email": "Адреса електронної пошти",
    "first_name": "Ім'я",
    "last_name": "Прізвище",
    "language": "Мова",
    "country": "Країна",
    "city": "Місто",
    "interests": "Що для вас найважливіше (необов'язково)",
    "consent": "Я хочу отримувати листи про термінові акції. Я можу відписатися будь-коли.",
    "consent_required": "Позначте поле, щоб погодитися отримувати наші листи.",
    "submit": "Підписатися",
    "check_title": "Перевірте пошту",
    "check_text": (
        "Якщо цю адресу можна підписати, ми надіслали на неї лист із посиланням для "
        "підтвердження. Посилання дійсне {days} днів. Листа немає? Перевірте теку «Спам»."
    ),
    "confirm_subject": "Підтвердіть підписку на термінові акції",
    "confirm_intro": "Підтвердіть, що хочете отримувати листи про термінові акції на цю адресу:",
    "confirm_button": "Так, підписатися",
    "confirm_ignore": "Якщо ви не підписувалися, просто проігноруйте цей лист.",
    "confirmed_title": "Ви підписані",
    "confirmed_text": "Дякуємо. Незабаром ви отримаєте першу термінову акцію.",
    "already_title": "Вже підтверджено",
    "already_text": "Цю адресу вже підписано.",
    "invalid_title": "Посилання не працює",
    "preferences_title": "Ваші налаштування",
    "preferences_intro": "Оберіть мову листів і теми, які для вас важливі.",
    "save": "Зберегти",
    "saved": "Налаштування збережено.",
    "unsubscribe_title": "Відписатися",
    "unsubscribe_question": "Припинити всі листи про термінові акції на {email}?",
    "unsubscribe_button": "Відписатися",
    "unsubscribed_title": "Ви відписані",
    "unsubscribed_text": "Ми більше не писатимемо вам. Дякуємо за підтримку.",
    "unsubscribe_link": "Відписатися від усіх листів",
    "preferences_link": "Змінити налаштування",
    "state_unsubscribed": "Цю адресу відписано, вона не отримує листів.",
}

AR = {
    "email_invalid": "أدخل عنوان بريد إلكتروني صالحًا، مثل name@example.org.",
    "signup_title": "انضم إلى شبكة التحركات العاجلة",
    "signup_intro": (
        "عندما يتعرض شخص لخطر داهم، نرسل إليك مناشدة قصيرة لتوجيهها إلى المسؤولين القادرين "
        "على المساعدة. يستغرق ذلك بضع دقائق، وهو مجدٍ."
    ),
    "email": "البريد الإلكتروني",
    "first_name": "الاسم الأول",
    "last_name": "اسم العائلة",
    "language": "اللغة",
    "country": "البلد",
    "city": "المدينة",
    "interests": "ما يهمك أكثر (اختياري)",
    "consent": "أرغب في تلقي رسائل التحركات العاجلة، ويمكنني إلغاء الاشتراك في أي وقت.",
    "consent_required": "ضع علامة في المربع للموافقة على تلقي رسائلنا.",
    "submit": "اشترك",
    "check_title": "تحقق من بريدك الوارد",
    "check_text": (
        "إذا كان بالإمكان تسجيل هذا العنوان، فقد أرسلنا إليه رسالة تحتوي على رابط للتأكيد "
        "صالح لمدة {days} أيام. لم تصلك؟ تحقق من مجلد الرسائل غير المرغوب فيها."
    ),
    "confirm_subject": "أكّد اشتراكك في التحركات العاجلة",
    "confirm_intro": "يرجى تأكيد رغبتك في تلقي رسائل التحركات العاجلة على هذا العنوان:",
    "confirm_button": "نعم، سجّلني",
    "confirm_ignore": "إذا لم تقم بالتسجيل، فتجاهل هذه الرسالة ولن نرسل إليك شيئًا.",
    "confirmed_title": "تم اشتراكك",
    "confirmed_text": "شكرًا لك. سيصلك أول تحرك عاجل قريبًا.",
    "already_title": "تم التأكيد مسبقًا",
    "already_text": "هذا العنوان مشترك بالفعل.",
    "invalid_title": "هذا الرابط لا يعمل",
    "preferences_title": "تفضيلاتك",
    "preferences_intro": "اختر لغة رسائلنا والمواضيع التي تهمك.",
    "save": "حفظ",
    "saved": "تم حفظ تفضيلاتك.",
    "unsubscribe_title": "إلغاء الاشتراك",
    "unsubscribe_question": "هل تريد إيقاف جميع رسائل التحركات العاجلة إلى {email}؟",
    "unsubscribe_button": "إلغاء الاشتراك",
    "unsubscribed_title": "تم إلغاء اشتراكك",
    "unsubscribed_text": "لن نراسلك مجددًا. شكرًا لدعمك.",
    "unsubscribe_link": "إلغاء الاشتراك من جميع الرسائل",
    "preferences_link": "تغيير تفضيلاتك",
    "state_unsubscribed": "هذا العنوان ملغى اشتراكه ولا يتلقى أي رسائل.",
}

TABLES = {"en": EN, "fr": FR, "es": ES, "ru": RU, "uk": UK, "ar": AR}
RTL = {"ar"}
NATIVE_NAMES = {
    "en": "English",
    "fr": "Français",
    "es": "Español",
    "ru": "Русский",
    "uk": "Українська",
    "ar": "العربية",
}


class Texts(dict):
    """One language's words; ``t["key"]`` falls back to English."""

    def __init__(self, code: str):
        super().__init__(EN | TABLES.get(code, {}))
        self.code = code if code in TABLES else "en"
        self.dir = "rtl" if self.code in RTL else "ltr"


def for_language(code: str | None) -> Texts:
    return Texts(code if code in PUBLIC_LANGUAGES else "en")


def best_language(accept_languages, requested: str | None = None) -> str:
    """The ?lang= asked for, else the browser's best match, else English."""
    if requested in PUBLIC_LANGUAGES:
        return requested
    return accept_languages.best_match(PUBLIC_LANGUAGES, default="en") if accept_languages else "en"
