"""The portal's words, in plain language, and their translations.

Portal pages are for survivors and responsible parties, not for staff: short sentences at about a
6th-8th grade reading level. The English text is the key; a language is offered only when every
portal string has a translation (tests/portal/test_text.py checks the templates against this file),
so a page never mixes languages under one `lang` attribute.
"""

from collections.abc import Callable
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from app.agreements.commitment_rules import MINUTES_PER_HOUR, CommitmentStatus
from app.agreements.models import CommitmentKind, ProgressKind
from app.agreements.rules import INTENT_STATEMENT
from app.agreements.terms import format_money
from app.safety.models import ConsentScope
from app.safety.sheets import InformationSheet

DEFAULT_LANGUAGE = "en"

# Plain-language names and explanations of each consent scope, in the order the portal lists them.
SCOPE_TITLES: dict[ConsentScope, str] = {
    ConsentScope.contact: "Contact from the program",
    ConsentScope.preparation: "Getting ready with your facilitator",
    ConsentScope.conference: "Taking part in the meeting",
    ConsentScope.share_information: "Sharing what you told us",
    ConsentScope.support_person: "A support person with you",
    ConsentScope.progress_updates: "News about the agreement",
}
SCOPE_EXPLANATIONS: dict[ConsentScope, str] = {
    ConsentScope.contact: "Your facilitator can call or write to you, in the way you chose.",
    ConsentScope.preparation: "You meet your facilitator on your own. You talk about the process and what you want.",
    ConsentScope.conference: (
        "You and the other person meet and talk, with a facilitator. It only happens if you both say yes."
    ),
    ConsentScope.share_information: (
        "Your facilitator may tell the other person some things you said. Only the things you agree to."
    ),
    ConsentScope.support_person: "Someone you trust can be with you at meetings.",
    ConsentScope.progress_updates: "If there is an agreement, we tell you how it is going.",
}

# Messages the portal's routes show (flash messages and error pages).
SAID_YES = "You said yes."
ALREADY_YES = "You already said yes to this."
NOTHING_TO_STOP = "You have not said yes to this, so there is nothing to stop."
PAGE_EXPIRED = "This page has expired. Go back, reload the page and try again."
PAGE_NOT_FOUND = "We could not find this page."
NOT_UNDERSTOOD = "We did not understand this request. Go back and try again."

# The agreement pages (app/portal/agreement_views.py). The terms themselves are the facilitator's
# text, bound to its hash, so they are shown as written; only these fixed words are translated.
# INTENT_STATEMENT (app/agreements/rules.py) is what a signature stores, always in English; its
# translation is shown beside it.
ACCEPTED = "Thank you. You accepted the agreement."
CHANGES_SENT = "Thank you. Your facilitator will read what you would like changed."
SIGNED = "Thank you. You signed the agreement."
DECLINED = "Your facilitator will be told that you do not want to sign."
TYPE_YOUR_NAME = "Type your full name."
TICK_TO_SIGN = "Tick this box to sign."
SAY_WHAT_TO_CHANGE = "Say what you would like changed."
SAY_WHY_NOT = "Say why you do not want to sign."
TOO_LONG = "This is too long. Please make it shorter."
TEXT_CHANGED = "The agreement changed after you opened this page. Please read the new text."
NOT_IN_REVIEW = "This agreement is not waiting for your answer now."
NOT_FOR_SIGNATURE = "This agreement is not ready to sign now."
ALREADY_SIGNED = "You already signed this agreement."
NOT_POSSIBLE = "This could not be done now. Please read the page again."
# Where the person is with the agreement (app/portal/agreement_queries.AgreementStep), for the API.
AGREEMENT_STEPS: dict[str, str] = {
    "nothing": "Your facilitator is writing the agreement. You will read it here before anyone signs.",
    "review": "Take your time. Then choose: accept it, or ask for changes. Nothing is signed yet.",
    "reviewed": "Next: when it is accepted, your facilitator will ask everyone to sign it.",
    "changes_asked": "Your facilitator will read your comment and change the agreement. You will read the new version "
    "here.",
    "declined": "Your facilitator will talk with you about what to do next.",
    "accepted": "Next: your facilitator will ask everyone to sign it.",
    "sign": "Read it again before you sign. You do not have to sign.",
    "signed": "You signed this agreement.",
    "sealed": "Signed by everyone",
}
# A refused step's condition codes (app/agreements/rules.py and service.py), in plain words.
REFUSALS: dict[str, str] = {
    "text_changed": TEXT_CHANGED,
    "not_in_review": NOT_IN_REVIEW,
    "not_open_for_signature": NOT_FOR_SIGNATURE,
    "already_signed": ALREADY_SIGNED,
}

# The follow-up pages (app/portal/commitment_views.py and commitment_api.py): what was agreed, how it is
# going, and a survivor's answer to a waiver. The commitments' descriptions are the agreement's words,
# shown as written (in English); only these fixed words are translated.
PROGRESS_NOT_SHARED = "You have not said yes to news about the agreement. So we do not show it here."
HOW_TO_SEE_PROGRESS = (
    "That is your choice. If you want to see it, say yes to News about the agreement on the page Your choices. "
    "You can also ask your facilitator."
)
NOTHING_FOR_YOU = "There is nothing about the agreement for you to see here."
WAIVER_AGREED = "Thank you. You said yes. This part of the agreement does not have to be done any more."
WAIVER_KEPT = "Thank you. You said no. This part of the agreement stays. Your facilitator will be told."
CHOOSE_YES_OR_NO = "Choose yes or no."
ALREADY_ANSWERED = "You already answered this question."
CASE_IS_CLOSED = "This case is closed. Nothing more can change."
AGREEMENT_CHANGED = "The agreement changed. This question is not open any more."
# A refused waiver answer's condition codes (app/agreements/commitment_service.py), in plain words.
WAIVER_REFUSALS: dict[str, str] = {
    "already_answered": ALREADY_ANSWERED,
    "case_closed": CASE_IS_CLOSED,
    "commitment_superseded": AGREEMENT_CHANGED,
}
# A commitment's status in words; colour on the page only supports them.
COMMITMENT_STATUS_WORDS: dict[CommitmentStatus, str] = {
    CommitmentStatus.upcoming: "Not due yet",
    CommitmentStatus.due_soon: "Due soon",
    CommitmentStatus.overdue: "Late",
    CommitmentStatus.completed: "Done",
    CommitmentStatus.waived: "Not needed any more",
    CommitmentStatus.breached: "Not kept",
}
# A no-contact promise is not "due": it stands until its end date.
NO_CONTACT_STATUS_WORDS: dict[CommitmentStatus, str] = {
    CommitmentStatus.upcoming: "In place",
    CommitmentStatus.completed: "Ended",
}
COMMITMENT_KIND_WORDS: dict[CommitmentKind, str] = {
    CommitmentKind.apology: "Apology",
    CommitmentKind.payment: "Payment",
    CommitmentKind.service_hours: "Community service",
    CommitmentKind.program_attendance: "Program sessions",
    CommitmentKind.no_contact: "No contact",
    CommitmentKind.other: "Something else",
}
PROGRESS_WORDS: dict[ProgressKind, str] = {
    ProgressKind.payment: "Payment received",
    ProgressKind.hours: "Hours done",
    ProgressKind.session_attended: "Session attended",
    ProgressKind.apology_delivered: "Apology given",
    ProgressKind.breach_reported: "Contact was reported",
    ProgressKind.done: "Done",
    ProgressKind.note: "Note",
}
CASE_STATE_WORDS: dict[str, str] = {
    "no_agreement": "There is no signed agreement yet.",
    "monitoring": "The agreement is in place. Your facilitator checks how it is going.",
    "completed": "Everything in the agreement is done.",
    "closed": "This case is closed.",
}

# Spanish as the information sheets write it: "usted", and "su facilitador".
SPANISH: dict[str, str] = {
    # layout and quick exit
    "Quick exit": "Salida rápida",
    "Skip to main content": "Ir al contenido principal",
    "Your page": "Su página",
    "Menu": "Menú",
    "Home": "Inicio",
    "Information": "Información",
    "Your choices": "Sus decisiones",
    "Sign out": "Cerrar sesión",
    "This page is private. Close it when you are done.": "Esta página es privada. Ciérrela cuando termine.",
    # home
    "Hello, {name}.": "Hola, {name}.",
    "What is this?": "¿Qué es esto?",
    "This page is about a restorative justice process.": "Esta página es sobre un proceso de justicia restaurativa.",
    "In this process, the person who was harmed and the person who caused the harm can talk. "
    "A trained facilitator helps them.": "En este proceso, la persona que sufrió el daño y la persona que lo causó "
    "pueden hablar. Un facilitador con formación les ayuda.",
    "It only happens if everyone agrees. You can stop at any time.": "Solo pasa si todos están de acuerdo. "
    "Puede parar en cualquier momento.",
    "Where are you now?": "¿En qué punto está?",
    "What happens next?": "¿Qué pasa después?",
    "You are here": "Usted está aquí",
    "Done": "Hecho",
    "Getting ready": "Prepararse",
    "You meet your facilitator on your own.": "Se reúne a solas con su facilitador.",
    "The meeting": "La reunión",
    "If you both say yes, you meet and talk, with a facilitator.": "Si los dos dicen que sí, se reúnen y hablan, "
    "con un facilitador.",
    "The agreement": "El acuerdo",
    "You may agree on what will be done to repair the harm.": "Pueden acordar qué se hará para reparar el daño.",
    "Follow-up": "Seguimiento",
    "We check that the agreement is kept.": "Comprobamos que se cumple el acuerdo.",
    "Read the information sheet": "Lea la hoja de información",
    "See and change your choices": "Vea y cambie sus decisiones",
    "Need to leave fast?": "¿Necesita salir rápido?",
    "Press Quick exit at the top of the page, or the Esc key. It opens another website.": "Pulse Salida rápida, "
    "arriba en la página, o la tecla Esc. Se abre otra página web.",
    # status
    "Your facilitator is getting ready. Nothing will be scheduled without your OK.": "Su facilitador está "
    "preparando todo. No se programará nada sin su permiso.",
    "Getting ready is done. Your facilitator will talk with you about a date. Nothing will be scheduled "
    "without your OK.": "La preparación está hecha. Su facilitador hablará con usted sobre una fecha. "
    "No se programará nada sin su permiso.",
    "You said stop. The process is paused. Nothing will happen unless you say yes again.": "Usted dijo que quiere "
    "parar. El proceso está en pausa. No pasará nada a menos que vuelva a decir que sí.",
    "Next: read the information sheet. Then tell us your choices.": "Lo siguiente: lea la hoja de información. "
    "Después díganos sus decisiones.",
    "Next: your facilitator will contact you to meet and talk.": "Lo siguiente: su facilitador le contactará "
    "para reunirse y hablar.",
    "Next: your facilitator will contact you about a date.": "Lo siguiente: su facilitador le contactará sobre "
    "una fecha.",
    "If you change your mind, you can say yes again on the page Your choices.": "Si cambia de opinión, puede "
    "volver a decir que sí en la página Sus decisiones.",
    # information sheet
    "Version {version}.": "Versión {version}.",
    "When you have read this, go to Your choices.": "Cuando lo haya leído, vaya a Sus decisiones.",
    # choices
    "You decide. You can say yes or stop for each one. You can change your mind at any time.": "Usted decide. "
    "Puede decir que sí o parar en cada una. Puede cambiar de opinión en cualquier momento.",
    "Before you say yes, read the information sheet.": "Antes de decir que sí, lea la hoja de información.",
    "You have not said yes.": "No ha dicho que sí.",
    "You said yes on {date}.": "Dijo que sí el {date}.",
    "You said stop on {date}.": "Dijo que quiere parar el {date}.",
    "Yes, I agree": "Sí, estoy de acuerdo",
    "Say yes again": "Volver a decir que sí",
    "I want to stop": "Quiero parar",
    "You said yes.": "Dijo que sí.",
    "You already said yes to this.": "Ya dijo que sí a esto.",
    "You have not said yes to this, so there is nothing to stop.": "No ha dicho que sí a esto, así que no hay "
    "nada que parar.",
    # withdraw
    "Do you want to stop?": "¿Quiere parar?",
    "You are about to stop: {title}.": "Va a parar: {title}.",
    "It is OK to stop. You can stop at any time. There is no penalty for stopping.": "Está bien parar. Puede "
    "parar en cualquier momento. Parar no tiene ninguna sanción.",
    "Your facilitator will be told. The process will be paused.": "Se lo diremos a su facilitador. El proceso "
    "quedará en pausa.",
    "Your facilitator will see your choice.": "Su facilitador verá su decisión.",
    "You can say yes again later if you want.": "Si quiere, puede volver a decir que sí más adelante.",
    "Do you want to tell your facilitator why? You do not have to.": "¿Quiere decirle a su facilitador por qué? "
    "No tiene que hacerlo.",
    "Yes, stop": "Sí, parar",
    "No, go back": "No, volver",
    # stopped
    "You said stop": "Usted dijo que quiere parar",
    "You stopped: {title}.": "Ha parado: {title}.",
    "The process is paused. Nothing will be scheduled without your OK.": "El proceso está en pausa. No se "
    "programará nada sin su permiso.",
    "Your facilitator will be told.": "Se lo diremos a su facilitador.",
    "We will not do this any more.": "Ya no haremos esto.",
    "Go to your page": "Ir a su página",
    # entering and leaving
    "Your private page": "Su página privada",
    "This link opens your private page. It works one time only.": "Este enlace abre su página privada. Funciona "
    "una sola vez.",
    "Open it when you are somewhere safe, where no one can see your screen.": "Ábrala cuando esté en un lugar "
    "seguro, donde nadie pueda ver su pantalla.",
    "Open my page": "Abrir mi página",
    "This link does not work any more": "Este enlace ya no funciona",
    "Please ask your facilitator for a new link.": "Pida un enlace nuevo a su facilitador.",
    "A link works one time only, and only for a short time. This keeps your page private.": "Un enlace funciona "
    "una sola vez, y solo por poco tiempo. Así su página sigue siendo privada.",
    "Your page is closed": "Su página está cerrada",
    "To open it again, ask your facilitator for a new link.": "Para abrirla otra vez, pida un enlace nuevo a su "
    "facilitador.",
    # errors
    "Something is not right": "Algo no está bien",
    "We could not find this page.": "No encontramos esta página.",
    "This page has expired. Go back, reload the page and try again.": "Esta página ha caducado. Vuelva atrás, "
    "recargue la página e inténtelo otra vez.",
    "We did not understand this request. Go back and try again.": "No entendimos esta petición. Vuelva atrás e "
    "inténtelo otra vez.",
    # the agreement
    "Read the agreement": "Lea el acuerdo",
    "Your agreement": "Su acuerdo",
    "Nothing to read yet": "Todavía no hay nada que leer",
    "Your facilitator is writing the agreement. You will read it here before anyone signs.": "Su facilitador "
    "está escribiendo el acuerdo. Usted lo leerá aquí antes de que nadie lo firme.",
    "Please read the agreement": "Por favor, lea el acuerdo",
    "Take your time. Then choose: accept it, or ask for changes. Nothing is signed yet.": "Tómese su tiempo. "
    "Después elija: aceptarlo o pedir cambios. Todavía no se firma nada.",
    "The agreement, version {number}": "El acuerdo, versión {number}",
    "The agreement is in English, as your facilitator wrote it. If you need help to read it, ask your "
    "facilitator.": "El acuerdo está en inglés, como lo escribió su facilitador. Si necesita ayuda para leerlo, "
    "pídasela a su facilitador.",
    "Fingerprint:": "Huella:",
    "This code changes if anyone changes the text. The signed copy shows it too.": "Este código cambia si alguien "
    "cambia el texto. La copia firmada también lo muestra.",
    "Do you accept it?": "¿Lo acepta?",
    "If you accept it, you will sign it later.": "Si lo acepta, lo firmará más adelante.",
    "I accept this": "Acepto esto",
    "Would you like changes?": "¿Quiere cambios?",
    "What would you like changed?": "¿Qué le gustaría cambiar?",
    "Your facilitator will read this.": "Su facilitador leerá esto.",
    "I would like changes": "Quiero cambios",
    "You accepted this agreement.": "Usted aceptó este acuerdo.",
    "Next: when it is accepted, your facilitator will ask everyone to sign it.": "Lo siguiente: cuando esté "
    "aceptado, su facilitador pedirá a todos que lo firmen.",
    "You asked for changes": "Usted pidió cambios",
    "Your facilitator will read your comment and change the agreement. You will read the new version here.": "Su "
    "facilitador leerá su comentario y cambiará el acuerdo. Usted leerá la nueva versión aquí.",
    "You said you do not want to sign": "Usted dijo que no quiere firmar",
    "Your facilitator will talk with you about what to do next.": "Su facilitador hablará con usted sobre qué "
    "hacer ahora.",
    "The agreement was accepted": "El acuerdo fue aceptado",
    "Next: your facilitator will ask everyone to sign it.": "Lo siguiente: su facilitador pedirá a todos que lo "
    "firmen.",
    "Sign the agreement": "Firme el acuerdo",
    "Read it again before you sign. You do not have to sign.": "Léalo otra vez antes de firmar. No tiene que firmar.",
    "Your full name": "Su nombre completo",
    "Type your full name. This is your signature.": "Escriba su nombre completo. Esta es su firma.",
    "In English, as it is kept with your signature:": "En inglés, como se guarda con su firma:",
    "Sign": "Firmar",
    "Your signature": "Su firma",
    "If you do not want to sign": "Si no quiere firmar",
    "You do not have to sign. If you do not sign, the agreement goes back to your facilitator.": "No tiene que "
    "firmar. Si no firma, el acuerdo vuelve a su facilitador.",
    "Tell your facilitator why": "Dígale a su facilitador por qué",
    "I do not want to sign": "No quiero firmar",
    "You signed this agreement.": "Usted firmó este acuerdo.",
    "{signed} of {required} people have signed. When everyone has signed, you can download the signed copy "
    "here.": "{signed} de {required} personas han firmado. Cuando todos hayan firmado, podrá descargar aquí la "
    "copia firmada.",
    "Signed by everyone": "Firmado por todos",
    "Everyone signed this agreement on {date}.": "Todos firmaron este acuerdo el {date}.",
    "Download the signed agreement (PDF)": "Descargar el acuerdo firmado (PDF)",
    "Keep it somewhere safe. Anyone who sees it can read it.": "Guárdelo en un lugar seguro. Cualquiera que lo "
    "vea puede leerlo.",
    "Your signed agreement": "Su acuerdo firmado",
    "This was not done": "Esto no se hizo",
    INTENT_STATEMENT: "He leído este acuerdo y lo firmo por mi propia voluntad.",
    "Thank you. You accepted the agreement.": "Gracias. Usted aceptó el acuerdo.",
    "Thank you. Your facilitator will read what you would like changed.": "Gracias. Su facilitador leerá lo que "
    "usted quiere cambiar.",
    "Thank you. You signed the agreement.": "Gracias. Usted firmó el acuerdo.",
    "Your facilitator will be told that you do not want to sign.": "Le diremos a su facilitador que usted no "
    "quiere firmar.",
    "Type your full name.": "Escriba su nombre completo.",
    "Tick this box to sign.": "Marque esta casilla para firmar.",
    "Say what you would like changed.": "Diga qué le gustaría cambiar.",
    "Say why you do not want to sign.": "Diga por qué no quiere firmar.",
    "This is too long. Please make it shorter.": "Es demasiado largo. Por favor, acórtelo.",
    "The agreement changed after you opened this page. Please read the new text.": "El acuerdo cambió después de "
    "que usted abriera esta página. Por favor, lea el texto nuevo.",
    "This agreement is not waiting for your answer now.": "Este acuerdo no está esperando su respuesta ahora.",
    "This agreement is not ready to sign now.": "Este acuerdo no está listo para firmar ahora.",
    "You already signed this agreement.": "Usted ya firmó este acuerdo.",
    "This could not be done now. Please read the page again.": "Esto no se pudo hacer ahora. Por favor, lea la "
    "página otra vez.",
    # scope titles and explanations
    "Contact from the program": "Contacto del programa",
    "Your facilitator can call or write to you, in the way you chose.": "Su facilitador puede llamarle o "
    "escribirle, de la forma que usted eligió.",
    "Getting ready with your facilitator": "Prepararse con su facilitador",
    "You meet your facilitator on your own. You talk about the process and what you want.": "Se reúne a solas "
    "con su facilitador. Hablan sobre el proceso y sobre lo que usted quiere.",
    "Taking part in the meeting": "Participar en la reunión",
    "You and the other person meet and talk, with a facilitator. It only happens if you both say yes.": "Usted y "
    "la otra persona se reúnen y hablan, con un facilitador. Solo pasa si los dos dicen que sí.",
    "Sharing what you told us": "Compartir lo que nos contó",
    "Your facilitator may tell the other person some things you said. Only the things you agree to.": "Su "
    "facilitador puede contarle a la otra persona algunas cosas que usted dijo. Solo las que usted acepte.",
    "A support person with you": "Una persona de apoyo con usted",
    "Someone you trust can be with you at meetings.": "Alguien de su confianza puede estar con usted en las reuniones.",
    "News about the agreement": "Noticias sobre el acuerdo",
    "If there is an agreement, we tell you how it is going.": "Si hay un acuerdo, le contamos cómo va.",
    # follow-up: what was agreed and how it is going
    "See how the agreement is going": "Vea cómo va el acuerdo",
    "What you agreed to do": "Lo que usted acordó hacer",
    "These are the things you agreed to do. Your facilitator writes down what you have done.": "Estas son las "
    "cosas que usted acordó hacer. Su facilitador anota lo que usted ha hecho.",
    "Progress on the agreement": "Cómo va el acuerdo",
    "Here you can see how the agreement is going. You can stop this news at any time on the page Your choices.": ""
    "Aquí puede ver cómo va el acuerdo. Puede dejar de recibir estas noticias en cualquier momento en la página "
    "Sus decisiones.",
    "Nothing to show yet": "Todavía no hay nada que mostrar",
    "There is no signed agreement yet.": "Todavía no hay un acuerdo firmado.",
    "The agreement is in place. Your facilitator checks how it is going.": "El acuerdo está en marcha. Su "
    "facilitador comprueba cómo va.",
    "Everything in the agreement is done.": "Todo lo del acuerdo está hecho.",
    "This case is closed.": "Este caso está cerrado.",
    "The agreement is in English, as your facilitator wrote it.": "El acuerdo está en inglés, como lo escribió su "
    "facilitador.",
    "You agreed to this.": "Usted acordó esto.",
    "Due by {date}": "Fecha límite: {date}",
    "Until {date}": "Hasta el {date}",
    "No end date": "Sin fecha de fin",
    "No date set": "Sin fecha",
    "Status:": "Estado:",
    "So far: {done} of {total}": "Hasta ahora: {done} de {total}",
    "What was done": "Lo que se ha hecho",
    "Nothing is written down yet.": "Todavía no hay nada anotado.",
    "Reference: {reference}": "Referencia: {reference}",
    "This was corrected. It does not count.": "Esto se corrigió. No cuenta.",
    "{hours} hours": "{hours} horas",
    "1 hour": "1 hora",
    "{count} sessions": "{count} sesiones",
    "1 session": "1 sesión",
    "Not due yet": "Todavía no vence",
    "Due soon": "Vence pronto",
    "Late": "Con retraso",
    "Not needed any more": "Ya no hace falta",
    "Not kept": "No se cumplió",
    "In place": "Vigente",
    "Ended": "Terminado",
    "Apology": "Disculpa",
    "Payment": "Pago",
    "Community service": "Servicio comunitario",
    "Program sessions": "Sesiones de un programa",
    "No contact": "Sin contacto",
    "Something else": "Otra cosa",
    "Payment received": "Pago recibido",
    "Hours done": "Horas hechas",
    "Session attended": "Sesión a la que asistió",
    "Apology given": "Disculpa dada",
    "Contact was reported": "Se informó de un contacto",
    "Note": "Nota",
    "You have not said yes to news about the agreement. So we do not show it here.": "No ha dicho que sí a las "
    "noticias sobre el acuerdo. Por eso no las mostramos aquí.",
    "That is your choice. If you want to see it, say yes to News about the agreement on the page Your choices. "
    "You can also ask your facilitator.": "Es su decisión. Si quiere verlas, diga que sí a Noticias sobre el "
    "acuerdo en la página Sus decisiones. También puede preguntar a su facilitador.",
    "Go to Your choices": "Ir a Sus decisiones",
    "There is nothing about the agreement for you to see here.": "Aquí no hay nada del acuerdo para usted.",
    # follow-up: a waiver the survivor is asked about
    "Your facilitator has a question": "Su facilitador tiene una pregunta",
    "Can this part of the agreement be dropped? If you say yes, it does not have to be done any more.": "¿Se puede "
    "quitar esta parte del acuerdo? Si dice que sí, ya no habrá que hacerla.",
    "Why your facilitator asks:": "Por qué lo pregunta su facilitador:",
    "It is your choice. If you say no, it stays in the agreement.": "Usted decide. Si dice que no, se queda en el "
    "acuerdo.",
    "Yes, drop it": "Sí, quitarla",
    "No, keep it": "No, mantenerla",
    "Thank you. You said yes. This part of the agreement does not have to be done any more.": "Gracias. Usted dijo "
    "que sí. Ya no hay que hacer esta parte del acuerdo.",
    "Thank you. You said no. This part of the agreement stays. Your facilitator will be told.": "Gracias. Usted dijo "
    "que no. Esta parte del acuerdo se queda. Se lo diremos a su facilitador.",
    "Choose yes or no.": "Elija sí o no.",
    "You already answered this question.": "Usted ya respondió a esta pregunta.",
    "This case is closed. Nothing more can change.": "Este caso está cerrado. Ya no puede cambiar nada.",
    "The agreement changed. This question is not open any more.": "El acuerdo cambió. Esta pregunta ya no está "
    "abierta.",
}
# Shown only in English, to someone whose language has no translation yet.
NO_TRANSLATION_NOTE = "This page is in English. If you need another language, ask your facilitator for an interpreter."
ENGLISH_ONLY = frozenset({NO_TRANSLATION_NOTE})

TRANSLATIONS: dict[str, dict[str, str]] = {"es": SPANISH}
LANGUAGES: tuple[str, ...] = (DEFAULT_LANGUAGE, *TRANSLATIONS)

MONTHS = {
    "en": ("January February March April May June July August September October November December").split(),
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre".split(),
}

Translate = Callable[..., str]


def portal_language(preferred: str | None) -> str:
    """The language the portal speaks to a person: theirs when a translation exists, else English."""
    base = (preferred or "").split("-")[0].lower()
    return base if base in LANGUAGES else DEFAULT_LANGUAGE


def translator(language: str) -> Translate:
    """`_("English text", name=value)`: the text in `language`, with the values filled in."""
    table = TRANSLATIONS.get(language, {})

    def translate(text: str, **values: object) -> str:
        translated = table.get(text, text)
        return translated.format(**values) if values else translated

    return translate


def long_date(value: datetime, *, language: str, timezone: str = "UTC") -> str:
    """A date people read easily, in their language and the program's time zone: 21 November 2026."""
    local = value.astimezone(ZoneInfo(timezone))
    month = MONTHS.get(language, MONTHS[DEFAULT_LANGUAGE])[local.month - 1]
    if language == "es":
        return f"{local.day} de {month} de {local.year}"
    return f"{local.day} {month} {local.year}"


def sheet_blocks(sheet: InformationSheet) -> list[tuple[str, str | list[str]]]:
    """The sheet's paragraphs as blocks to show: ("h2", text), ("ul", [items]) or ("p", text).

    Sheets are plain text with two Markdown habits: '## ' starts a heading, '- ' starts a list item.
    """
    blocks: list[tuple[str, str | list[str]]] = []
    for paragraph in sheet.paragraphs:
        lines = [line.strip() for line in paragraph.splitlines() if line.strip()]
        if len(lines) == 1 and lines[0].startswith("#"):
            blocks.append(("h2", lines[0].lstrip("#").strip()))
        elif lines and all(line.startswith(("- ", "* ")) for line in lines):
            blocks.append(("ul", [line[2:].strip() for line in lines]))
        else:
            blocks.append(("p", " ".join(lines)))
    return blocks


def long_day(value: date, *, language: str) -> str:
    """A calendar date (a due date, the day something was done) written out in the person's language."""
    month = MONTHS.get(language, MONTHS[DEFAULT_LANGUAGE])[value.month - 1]
    if language == "es":
        return f"{value.day} de {month} de {value.year}"
    return f"{value.day} {month} {value.year}"


def status_words(kind: CommitmentKind, status: CommitmentStatus) -> str:
    """A commitment's status in plain words (the English key): a no-contact promise is "in place", not "due"."""
    if kind == CommitmentKind.no_contact and status in NO_CONTACT_STATUS_WORDS:
        return NO_CONTACT_STATUS_WORDS[status]
    return COMMITMENT_STATUS_WORDS[status]


def amount_words(kind: CommitmentKind, amount: int, currency: str | None, language: str) -> str | None:
    """An amount in the commitment's unit as people say it, in their language; None where there is no amount."""
    _ = translator(language)
    match kind:
        case CommitmentKind.payment:
            return format_money(amount, currency or "")
        case CommitmentKind.service_hours:
            hours = Decimal(amount) / MINUTES_PER_HOUR
            shown = f"{hours.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP).normalize():f}"
            return _("1 hour") if hours == 1 else _("{hours} hours", hours=shown)
        case CommitmentKind.program_attendance:
            return _("1 session") if amount == 1 else _("{count} sessions", count=amount)
        case _:
            return None
