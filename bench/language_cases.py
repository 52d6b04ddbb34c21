# ruff: noqa: E501  (tables of sentences, one per line)
"""Labelled cases of bench/languages.py: per language (DE, FR, ES, IT, NL, PT, PL, SV) names,
e-mails, phones, national identifiers, IBANs and addresses in prose, JSON tool output, code
and logs, and texts without personal data. Every value is fictitious; identifiers, IBANs and
phone numbers are valid (python-stdnum, libphonenumber) and generated from a fixed seed."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from importlib import import_module

import phonenumbers
from name_cases import more_name_cases
from stdnum import iban as stdiban


@dataclass(frozen=True)
class Case:
    lang: str
    surface: str  # prose, json, code, log
    kind: str  # NAME, EMAIL, PHONE, NATIONAL_ID, IBAN, ADDRESS
    text: str
    value: str


REGION = {"de": "DE", "fr": "FR", "es": "ES", "it": "IT", "nl": "NL", "pt": "PT", "pl": "PL"}
REGION["sv"] = "SE"
NAMES = {
    "de": ["Klaus Müller", "Anna Schmidt", "Jürgen Weißmann", "Sabine Hoffmann", "Lukas Becker"],
    "fr": ["Camille Dubois", "Jean Lefèvre", "Amélie Moreau", "Nicolas Girard", "Hélène Roux"],
    "es": ["Sofía Martínez", "Javier García", "Lucía Fernández", "Pablo Sánchez", "Carmen Ruiz"],
    "it": ["Giulia Rossi", "Marco Bianchi", "Francesca Romano", "Luca Esposito", "Chiara Greco"],
    "nl": ["Daan de Vries", "Sanne Jansen", "Pieter van Dijk", "Emma Bakker", "Joost Visser"],
    "pt": ["João Silva", "Ana Ferreira", "Miguel Costa", "Beatriz Santos", "Tiago Oliveira"],
    "pl": ["Małgorzata Kowalska", "Piotr Nowak", "Anna Wiśniewska", "Tomasz Wójcik", "Jan Lis"],
    "sv": ["Erik Johansson", "Anna Lindqvist", "Lars Andersson", "Karin Nilsson", "Sven Berg"],
}
STREETS = {
    "de": ["Hauptstraße {n}, 10115 Berlin", "Berliner Allee {n}, 40212 Düsseldorf"],
    "fr": ["{n} rue des Lilas, 75011 Paris", "{n} avenue Jean Jaurès, 69007 Lyon"],
    "es": ["calle Mayor {n}, 28013 Madrid", "avenida Diagonal {n}, 08019 Barcelona"],
    "it": ["via Roma {n}, 20121 Milano", "piazza Navona {n}, 00186 Roma"],
    "nl": ["Keizersgracht {n}, 1015 CJ Amsterdam", "Stationsweg {n}, 2312 AV Leiden"],
    "pt": ["Rua Augusta {n}, 1100-053 Lisboa", "Avenida da Liberdade {n}, 1250-096 Lisboa"],
    "pl": ["ul. Długa {n}, 00-238 Warszawa", "ul. Floriańska {n}, 31-019 Kraków"],
    "sv": ["Drottninggatan {n}, 111 51 Stockholm", "Kungsgatan {n}, 411 19 Göteborg"],
}
# National identifiers of each language: (entity type, stdnum module, keyword sentence).
IDS = {
    "de": [("DE_TAX_ID", "de.idnr", "Meine Steuer-ID lautet {v}."),
           ("DE_VAT_ID", "de.vat", "Unsere USt-IdNr.: {v}")],
    "fr": [("FR_NIR", "fr.nir", "Mon numéro de sécurité sociale est {v}."),
           ("FR_SIRET", "fr.siret", "Le SIRET de la société est {v}.")],
    "es": [("ES_NIF", "es.dni", "Mi DNI es {v}."), ("ES_NIE", "es.nie", "Mi NIE es {v}.")],
    "it": [("IT_FISCAL_CODE", "it.codicefiscale", "Il mio codice fiscale è {v}."),
           ("IT_VAT_CODE", "it.iva", "Partita IVA: {v}")],
    "nl": [("NL_BSN", "nl.bsn", "Mijn BSN is {v}.")],
    "pt": [("PT_NIF", "pt.nif", "O meu NIF é {v}.")],
    "pl": [("PL_PESEL", "pl.pesel", "Mój numer PESEL to {v}."), ("PL_NIP", "pl.nip", "NIP firmy: {v}")],
    "sv": [("SE_PERSONNUMMER", "se.personnummer", "Mitt personnummer är {v}.")],
}  # fmt: skip
PROSE = {
    "de": {"NAME": "Bitte schick die Unterlagen an {v}, danke.",
           "EMAIL": "Schreib mir an {v}, wenn es fertig ist.",
           "PHONE": "Du erreichst mich unter {v} oder per Mail.",
           "IBAN": "Überweisen Sie den Betrag auf IBAN {v}.",
           "ADDRESS": "Die Lieferadresse ist {v}."},
    "fr": {"NAME": "Peux-tu envoyer le dossier à {v} demain ?",
           "EMAIL": "Écris-moi à {v} quand c'est prêt.",
           "PHONE": "Tu peux me joindre au {v} après 18 h.",
           "IBAN": "Merci de virer le montant sur l'IBAN {v}.",
           "ADDRESS": "L'adresse de livraison est {v}."},
    "es": {"NAME": "Por favor, envía el informe a {v} mañana.",
           "EMAIL": "Escríbeme a {v} cuando esté listo.",
           "PHONE": "Puedes llamarme al {v} por la tarde.",
           "IBAN": "Transfiere el importe al IBAN {v}.",
           "ADDRESS": "La dirección de entrega es {v}."},
    "it": {"NAME": "Per favore manda il documento a {v} domani.",
           "EMAIL": "Scrivimi a {v} quando è pronto.",
           "PHONE": "Puoi chiamarmi al {v} nel pomeriggio.",
           "IBAN": "Versa l'importo sull'IBAN {v}.",
           "ADDRESS": "L'indirizzo di consegna è {v}."},
    "nl": {"NAME": "Stuur het rapport morgen naar {v}, alsjeblieft.",
           "EMAIL": "Mail me op {v} als het klaar is.",
           "PHONE": "Je kunt me bellen op {v} na vijf uur.",
           "IBAN": "Maak het bedrag over naar IBAN {v}.",
           "ADDRESS": "Het afleveradres is {v}."},
    "pt": {"NAME": "Por favor envia o relatório para {v} amanhã.",
           "EMAIL": "Escreve-me para {v} quando estiver pronto.",
           "PHONE": "Podes ligar-me para o {v} à tarde.",
           "IBAN": "Transfere o valor para o IBAN {v}.",
           "ADDRESS": "A morada de entrega é {v}."},
    "pl": {"NAME": "Proszę wyślij raport jutro do {v}.",
           "EMAIL": "Napisz do mnie na {v}, gdy będzie gotowe.",
           "PHONE": "Zadzwoń do mnie pod numer {v} po południu.",
           "IBAN": "Przelej kwotę na IBAN {v}.",
           "ADDRESS": "Adres dostawy to {v}."},
    "sv": {"NAME": "Skicka rapporten till {v} i morgon, tack.",
           "EMAIL": "Mejla mig på {v} när det är klart.",
           "PHONE": "Du når mig på {v} efter fem.",
           "IBAN": "Betala beloppet till IBAN {v}.",
           "ADDRESS": "Leveransadressen är {v}."},
}  # fmt: skip
FIELD = {"NAME": "customer_name", "EMAIL": "email", "PHONE": "phone", "IBAN": "iban"}
FIELD |= {"ADDRESS": "address", "NATIONAL_ID": "tax_id"}
# Texts without personal data: everyday work sentences of each language.
NO_PII = {
    "de": ["Der Bericht für das dritte Quartal ist fertig.", "Bitte prüfe die Tabelle bis Freitag.",
           "Das Meeting wurde auf nächste Woche verschoben.", "Die neue Version behebt drei Fehler.",
           "Wir brauchen mehr Tests für den Export.", "Kannst du die Zusammenfassung kürzen?",
           "Der Server startet nach dem Update neu.", "Die Kosten sind um zwölf Prozent gestiegen.",
           "Schreib bitte eine kurze Einleitung für das Handbuch.", "Das Budget reicht bis Ende März."],
    "fr": ["Le rapport du troisième trimestre est prêt.", "Merci de vérifier le tableau avant vendredi.",
           "La réunion est reportée à la semaine prochaine.", "La nouvelle version corrige trois bugs.",
           "Il faut plus de tests pour l'export.", "Peux-tu raccourcir le résumé ?",
           "Le serveur redémarre après la mise à jour.", "Les coûts ont augmenté de douze pour cent.",
           "Écris une courte introduction pour le manuel.", "Le budget suffit jusqu'à fin mars."],
    "es": ["El informe del tercer trimestre está listo.", "Revisa la tabla antes del viernes, por favor.",
           "La reunión se ha aplazado a la semana que viene.", "La nueva versión corrige tres errores.",
           "Necesitamos más pruebas para la exportación.", "¿Puedes acortar el resumen?",
           "El servidor se reinicia después de la actualización.", "Los costes subieron un doce por ciento.",
           "Escribe una introducción breve para el manual.", "El presupuesto alcanza hasta finales de marzo."],
    "it": ["Il rapporto del terzo trimestre è pronto.", "Controlla la tabella entro venerdì, per favore.",
           "La riunione è stata rinviata alla prossima settimana.", "La nuova versione corregge tre errori.",
           "Servono più test per l'esportazione.", "Puoi accorciare il riassunto?",
           "Il server si riavvia dopo l'aggiornamento.", "I costi sono aumentati del dodici per cento.",
           "Scrivi una breve introduzione per il manuale.", "Il budget basta fino a fine marzo."],
    "nl": ["Het rapport over het derde kwartaal is klaar.", "Controleer de tabel voor vrijdag, alsjeblieft.",
           "De vergadering is verplaatst naar volgende week.", "De nieuwe versie lost drie fouten op.",
           "We hebben meer tests nodig voor de export.", "Kun je de samenvatting inkorten?",
           "De server start opnieuw na de update.", "De kosten zijn met twaalf procent gestegen.",
           "Schrijf een korte inleiding voor de handleiding.", "Het budget is genoeg tot eind maart."],
    "pt": ["O relatório do terceiro trimestre está pronto.", "Verifica a tabela até sexta-feira, por favor.",
           "A reunião foi adiada para a próxima semana.", "A nova versão corrige três erros.",
           "Precisamos de mais testes para a exportação.", "Podes encurtar o resumo?",
           "O servidor reinicia depois da atualização.", "Os custos subiram doze por cento.",
           "Escreve uma introdução curta para o manual.", "O orçamento chega até ao fim de março."],
    "pl": ["Raport za trzeci kwartał jest gotowy.", "Sprawdź proszę tabelę do piątku.",
           "Spotkanie przełożono na przyszły tydzień.", "Nowa wersja naprawia trzy błędy.",
           "Potrzebujemy więcej testów eksportu.", "Czy możesz skrócić podsumowanie?",
           "Serwer uruchamia się ponownie po aktualizacji.", "Koszty wzrosły o dwanaście procent.",
           "Napisz krótki wstęp do podręcznika.", "Budżet wystarczy do końca marca."],
    "sv": ["Rapporten för tredje kvartalet är klar.", "Kontrollera tabellen före fredag, tack.",
           "Mötet har flyttats till nästa vecka.", "Den nya versionen rättar tre fel.",
           "Vi behöver fler tester för exporten.", "Kan du korta ner sammanfattningen?",
           "Servern startar om efter uppdateringen.", "Kostnaderna steg med tolv procent.",
           "Skriv en kort inledning till handboken.", "Budgeten räcker till slutet av mars."],
}  # fmt: skip


def _valid(module: str, rng: random.Random, shape: str) -> str:
    """A value of `shape` (9: digit, A: letter) that python-stdnum accepts."""
    check = import_module(f"stdnum.{module}").is_valid
    for _ in range(200_000):
        value = "".join(
            rng.choice("0123456789")
            if c == "9"
            else rng.choice("ABCDEFGHJKLMNPRSTVWXYZ")
            if c == "A"
            else c
            for c in shape
        )
        if check(value):
            return value
    raise RuntimeError(f"no valid {module} value for {shape}")


SHAPES = {
    "de.idnr": "99 999 999 999", "de.vat": "DE999999999", "fr.nir": "1 99 09 75 999 999 99",
    "fr.siret": "999 999 999 99999", "es.dni": "99999999A", "es.nie": "X9999999A",
    "it.iva": "99999999999", "nl.bsn": "999999999", "pt.nif": "299 999 999",
    "pl.pesel": "90010199999", "pl.nip": "999-999-99-99", "se.personnummer": "850101-9999",
}  # fmt: skip
_CF = ["RSSMRA85T10A562S", "BNCGLI90A41H501", "VRDLCU78C15F205"]  # check letter computed


def _codice(rng: random.Random) -> str:
    from stdnum.it import codicefiscale

    body = rng.choice(_CF)[:15]
    return body + codicefiscale.calc_check_digit(body)


def _iban(country: str, rng: random.Random, length: int) -> str:
    for _ in range(10_000):
        bban = "".join(rng.choice("0123456789") for _ in range(length))
        if country == "IT":  # the Italian BBAN opens with its check letter (CIN)
            bban = rng.choice("ABCDEFGHIJKLMNOPRSTUVWXYZ") + bban[1:]
        if country == "NL":  # a Dutch BBAN opens with its bank's four letters
            bban = "INGB" + bban[4:]
        number = country + stdiban.calc_check_digits(country + "00" + bban) + bban
        if stdiban.is_valid(number, check_country=False):
            return stdiban.format(number)
    raise RuntimeError(f"no valid IBAN for {country}")


_IBAN_LENGTH = {"DE": 18, "FR": 23, "ES": 20, "IT": 23, "NL": 14, "PT": 21, "PL": 24, "SE": 20}


def _phones(region: str) -> list[str]:
    out = []
    for kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE):
        number = phonenumbers.example_number_for_type(region, kind)
        for fmt in (
            phonenumbers.PhoneNumberFormat.NATIONAL,
            phonenumbers.PhoneNumberFormat.INTERNATIONAL,
        ):
            out.append(phonenumbers.format_number(number, fmt))
    return out


def _render(surface: str, kind: str, lang: str, value: str, prose: str) -> str:
    if surface == "prose":
        return prose
    if surface == "json":
        result = {"status": "ok", "record": {FIELD[kind]: value, "updated": "2026-11-05"}}
        return json.dumps({"tool": "crm.lookup", "result": result}, ensure_ascii=False)
    if surface == "code":
        return f'record = Record({FIELD[kind]}="{value}", locale="{lang}")'
    return f"2026-11-05T12:30:44Z INFO crm {FIELD[kind]}={value} action=update"


def _values(lang: str, rng: random.Random) -> list[tuple[str, str, str]]:
    """(kind, value, prose) of one language."""
    region, out = REGION[lang], []
    frames = PROSE[lang]
    for name in NAMES[lang]:
        out.append(("NAME", name, frames["NAME"].format(v=name)))
        local = name.lower().replace(" ", ".")
        email = f"{local}@beispiel-{lang}.example.com"
        out.append(("EMAIL", email, frames["EMAIL"].format(v=email)))
    for phone in _phones(region):
        out.append(("PHONE", phone, frames["PHONE"].format(v=phone)))
    for _entity, module, frame in IDS[lang]:
        for _ in range(3):
            value = (
                _codice(rng)
                if module == "it.codicefiscale"
                else _valid(module, rng, SHAPES[module])
            )
            out.append(("NATIONAL_ID", value, frame.format(v=value)))
    for _ in range(3):
        value = _iban(region, rng, _IBAN_LENGTH[region])
        out.append(("IBAN", value, frames["IBAN"].format(v=value)))
    for street in STREETS[lang]:
        for n in (5, 27, 114):
            value = street.format(n=n)
            out.append(("ADDRESS", value, frames["ADDRESS"].format(v=value)))
    return out


def cases(seed: int = 26) -> list[Case]:
    rng = random.Random(seed)
    out = []
    for lang in NAMES:
        for i, (kind, value, prose) in enumerate(_values(lang, rng)):
            # Each value in prose and in one of the tool-output surfaces, in turn.
            for surface in ("prose", ("json", "code", "log")[i % 3]):
                out.append(
                    Case(lang, surface, kind, _render(surface, kind, lang, value, prose), value)
                )
    # Names of every country (issue 26): 16 more per language, in more sentences and tools.
    for lang, surface, text, value in more_name_cases():
        out.append(Case(lang, surface, "NAME", text, value))
    return out


def no_pii(lang: str) -> list[str]:
    """At least 30 texts without personal data: the sentences, as JSON, code and log lines."""
    out = []
    for i, sentence in enumerate(NO_PII[lang]):
        out.append(sentence)
        out.append(
            json.dumps({"tool": "notes.search", "hits": 3, "summary": sentence}, ensure_ascii=False)
        )
        out.append(f"# {sentence}\nresult = summarize(text, max_words={20 + i})")
        out.append(f'2026-11-05T12:3{i}:44Z INFO job=report-{i} msg="{sentence}" took_ms={120 + i}')
    return out
