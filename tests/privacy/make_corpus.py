"""Generate tests/privacy/corpus.jsonl, an adversarial corpus for Vigie's privacy guard.

Deterministic (seeded), standard library only. Run from the repository root or anywhere:

    python3 tests/privacy/make_corpus.py

Each line of the output is {"text": str, "identifiers": [{"kind": str, "text": str}], "risky": [str]}.
Identifiers are exact substrings of the note (label only: "Dupont" in "Mme Dupont", "123456789" in
"IPP 123456789"); "risky" lists substrings that a guard must leave alone (software, rooms, doses,
extensions, document dates, roles, times...). See README.md next to this file.

The corpus was written without reading the detector; do not tune it against the detector either.
"""

from __future__ import annotations

import json
import random
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable
from pathlib import Path

SEED = 20240611
N_NOTES = 1400
OUT = Path(__file__).resolve().parent / "corpus.jsonl"

KINDS = ("name", "nir", "patient_number", "phone", "email", "birth_date", "address")

# A piece is (text, tag). Tags: "" = filler (may get typos/SMS/spacing), "cue" = fixed word that
# keeps its spelling (only case and accents change), "risky" = must not be masked, or a KIND.
Piece = tuple[str, str]

ZWSP = "\u200b"
NBSP = "\u00a0"
NNBSP = "\u202f"

# --------------------------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------------------------

SURNAMES = [
    # frequent French surnames, several of them also common words (Martin, Blanc, Petit, Roux...)
    "Martin",
    "Bernard",
    "Thomas",
    "Petit",
    "Robert",
    "Richard",
    "Durand",
    "Dubois",
    "Moreau",
    "Laurent",
    "Simon",
    "Michel",
    "Lefebvre",
    "Leroy",
    "Roux",
    "David",
    "Bertrand",
    "Morel",
    "Fournier",
    "Girard",
    "Bonnet",
    "Dupont",
    "Lambert",
    "Fontaine",
    "Rousseau",
    "Vincent",
    "Muller",
    "Lefèvre",
    "Faure",
    "André",
    "Mercier",
    "Blanc",
    "Guérin",
    "Boyer",
    "Garnier",
    "Chevalier",
    "François",
    "Legrand",
    "Gauthier",
    "Garcia",
    "Perrin",
    "Robin",
    "Clément",
    "Morin",
    "Nicolas",
    "Henry",
    "Roussel",
    "Mathieu",
    "Masson",
    "Marchand",
    "Duval",
    "Denis",
    "Dumont",
    "Lemaire",
    "Noël",
    "Meyer",
    "Dufour",
    "Meunier",
    "Brun",
    "Blanchard",
    "Giraud",
    "Joly",
    "Rivière",
    "Lucas",
    "Brunet",
    "Gaillard",
    "Barbier",
    "Arnaud",
    "Martinez",
    "Gérard",
    "Roche",
    "Renard",
    "Schmitt",
    "Roy",
    "Leroux",
    "Colin",
    "Vidal",
    "Caron",
    "Picard",
    "Roger",
    "Fabre",
    "Aubert",
    "Lemoine",
    "Renaud",
    "Dumas",
    "Lacroix",
    "Olivier",
    "Philippe",
    "Bourgeois",
    "Pierre",
    "Benoît",
    "Rey",
    "Leclerc",
    "Payet",
    "Rolland",
    "Leclercq",
    "Guillaume",
    "Lecomte",
    "Lopez",
    "Jean",
    "Dupuy",
    "Guillot",
    "Hubert",
    "Berger",
    "Carpentier",
    "Sanchez",
    "Dupuis",
    "Moulin",
    "Louis",
    "Deschamps",
    "Huet",
    "Vasseur",
    "Perez",
    "Boucher",
    "Fleury",
    "Royer",
    "Klein",
    "Jacquet",
    "Adam",
    "Paris",
    "Poirier",
    "Marty",
    "Aubry",
    "Guyot",
    "Carré",
    "Charles",
    "Renault",
    "Charpentier",
    "Ménard",
    "Maillard",
    "Baron",
    "Bertin",
    "Bailly",
    "Hervé",
    "Schneider",
    "Fernandez",
    "Collet",
    "Léger",
    "Bouvier",
    "Julien",
    "Prévost",
    "Millet",
    "Perrot",
    "Daniel",
    "Cousin",
    "Germain",
    "Breton",
    "Besson",
    "Langlois",
    "Rémy",
    "Pelletier",
    "Lévêque",
    "Perrier",
    "Leblanc",
    "Barré",
    "Lebrun",
    "Marchal",
    "Weber",
    "Mallet",
    "Hamon",
    "Boulanger",
    "Jacob",
    "Monnier",
    "Michaud",
    "Rodriguez",
    "Guichard",
    "Gillet",
    "Étienne",
    "Grondin",
    "Poulain",
    "Tessier",
    "Chauvin",
    "Bouchet",
    "Gay",
    "Lemaître",
    "Humbert",
    "Reynaud",
    "Antoine",
    "Hoarau",
    "Perret",
    "Barthélemy",
    "Cordier",
    "Pichon",
    "Lejeune",
    "Gilbert",
    "Lamy",
    "Delaunay",
    "Pasquier",
    "Carlier",
    "Laporte",
    "Dubreuil",
    "Delacroix",
    "Vandenberghe",
    "Lefranc",
    # particles, compounds, apostrophes
    "Le Gall",
    "Le Goff",
    "Le Roux",
    "Le Bihan",
    "Le Floch",
    "Le Guen",
    "Le Corre",
    "de la Tour",
    "de Montfort",
    "du Pont",
    "de Saint-Aubin",
    "Saint-Martin",
    "Jean-Baptiste",
    "Lefèvre-Duval",
    "Lambert-Martin",
    "N'Diaye",
    "D'Angelo",
    "D'Almeida",
    "O'Neill",
    "Dell'Orto",
    "Van der Berg",
    "Van Damme",
    "Da Silva",
    "Dos Santos",
    "De Oliveira",
    "Ait Ahmed",
    "Aït-Ali",
    "El Amrani",
    "Ben Ahmed",
    "Abou Khalil",
    # various origins
    "Nguyen",
    "Tran",
    "Pham",
    "Le Van",
    "Vu",
    "Ng",
    "Ly",
    "Benali",
    "Belkacem",
    "Haddad",
    "Mansouri",
    "Bouaziz",
    "Messaoudi",
    "Chaouch",
    "Cherif",
    "Boudjema",
    "Diallo",
    "Traoré",
    "Diop",
    "Sow",
    "Ba",
    "Camara",
    "Koné",
    "Ouédraogo",
    "Mbemba",
    "Okafor",
    "Kowalski",
    "Nowak",
    "Wiśniewski",
    "Lewandowski",
    "Ferreira",
    "Pereira",
    "Rodrigues",
    "Gonçalves",
    "Rossi",
    "Russo",
    "Esposito",
    "Fontana",
    "Yılmaz",
    "Öztürk",
    "Kaya",
    "Cohen",
    "Lévy",
    "Hoffmann",
    "Schwartz",
    "Zimmermann",
    "Kerleau",
    "Quéméner",
    "Etcheverry",
    "Goïc",
]

FIRST_NAMES = [
    "Paulette",
    "Jeanne",
    "Marie",
    "Germaine",
    "Simone",
    "Yvette",
    "Odette",
    "Marcel",
    "René",
    "Roger",
    "Robert",
    "André",
    "Lucienne",
    "Suzanne",
    "Raymonde",
    "Henriette",
    "Denise",
    "Colette",
    "Jacqueline",
    "Monique",
    "Gisèle",
    "Huguette",
    "Madeleine",
    "Marguerite",
    "Georgette",
    "Fernand",
    "Lucien",
    "Gilbert",
    "Maurice",
    "Raymond",
    "Albert",
    "Gaston",
    "Émile",
    "Louis",
    "Jean-Pierre",
    "Jean-Claude",
    "Marie-Thérèse",
    "Anne-Marie",
    "Christiane",
    "Bernadette",
    "Josiane",
    "Michèle",
    "Nicole",
    "Françoise",
    "Danielle",
    "Pierre",
    "Jacques",
    "Michel",
    "Alain",
    "Bernard",
    "Gérard",
    "Daniel",
    "Claude",
    "Yves",
    "Hélène",
    "Thérèse",
    "Kevin",
    "Julie",
    "Sarah",
    "Camille",
    "Léa",
    "Manon",
    "Chloé",
    "Emma",
    "Inès",
    "Yasmine",
    "Fatima",
    "Aïcha",
    "Karim",
    "Mohamed",
    "Mehdi",
    "Nadia",
    "Samira",
    "Sofiane",
    "Rachid",
    "Moussa",
    "Aminata",
    "Fatoumata",
    "Mamadou",
    "Ibrahim",
    "Thi Lan",
    "Minh",
    "Linh",
    "Piotr",
    "Agnieszka",
    "João",
    "Maria",
    "Ana",
    "Giulia",
    "Luca",
    "Sébastien",
    "Nicolas",
    "Julien",
    "Mathieu",
    "Thomas",
    "Céline",
    "Sandrine",
    "Nathalie",
    "Isabelle",
    "Stéphanie",
    "Aurélie",
    "Émilie",
    "Audrey",
    "Laetitia",
    "Virginie",
    "Ludivine",
    "Mélanie",
    "Jessica",
    "Océane",
    "Dylan",
    "Enzo",
    "Lucas",
    "Hugo",
    "Noémie",
    "Margaux",
    "Clément",
    "Romain",
    "Anthony",
    "Jérôme",
    "Cédric",
    "Fabrice",
    "Rose",
    "Claire",
    "Ginette",
    "Lucette",
    "Mireille",
]

SOFTWARE = [
    "DxCare",
    "Orbis",
    "Octime",
    "Ennov",
    "Hopital Manager",
    "Easily",
    "Cerner",
    "Sillage",
    "Netsoins",
    "Titan",
    "Agirc",
    "Vocera",
    "Ascom",
    "Medimail",
    "MSSanté",
    "Doctolib",
    "Teams",
    "Outlook",
    "Crossway",
    "Pharma",
    "Osiris",
    "Chimio",
    "Gesform",
    "Axigate",
    "Mediboard",
    "Titan Link",
    "Intranet",
    "Qualios",
    "Blue Kango",
    "Trajectoire",
    "ViaTrajectoire",
    "Hexagone",
    "Mobisoins",
    "Web100T",
    "Softway",
    "Clinicom",
    "Polaris",
]
DEVICES = [
    "DECT",
    "chariot info",
    "PC portable",
    "tablette",
    "lecteur code-barre",
    "douchette",
    "imprimante étiquettes",
    "scanner",
    "borne",
    "tensiomètre connecté",
    "pousse-seringue",
    "PC du poste de soins",
    "ordi du couloir",
    "smartphone pro",
    "bip",
    "lecteur carte CPS",
    "armoire à pharmacie sécurisée",
    "Pyxis",
    "Omnicell",
    "Ascom i62",
]
DOCS = [
    "plan de soins",
    "pilulier",
    "dossier patient informatisé",
    "DPI",
    "transmissions",
    "feuille de surveillance",
    "prescription",
    "courbe de temp",
    "bilan sanguin",
    "ordonnance",
    "bon de labo",
    "fiche de liaison",
    "planning",
    "diagramme de soins",
    "macrocible",
    "fiche d'événement indésirable",
    "dossier de soins",
    "feuille de traçabilité",
    "bon de radio",
    "compte rendu",
    "lettre de sortie",
    "fiche de transfert",
    "check-list",
    "protocole",
]
ROLES = [
    "l'IDE de nuit",
    "la cadre",
    "l'AS",
    "l'ASH",
    "l'interne",
    "le médecin co",
    "la secrétaire",
    "l'IDE du matin",
    "l'AS de jour",
    "le pharmacien",
    "la kiné",
    "l'IDEC",
    "le brancardier",
    "la diet",
    "l'ergo",
    "le chef de service",
    "la cadre de santé",
    "l'équipe de nuit",
    "la psy",
    "l'astreinte",
    "l'interne de garde",
    "le dr de garde",
    "la secrétaire médicale",
    "l'IDE",
    "les AS",
    "l'étudiante IDE",
    "l'intérimaire",
    "l'IDE de coupe",
    "la préparatrice",
    "le médecin traitant",
    "l'AMP",
    "l'AES",
    "l'animatrice",
    "la gouvernante",
    "le veilleur",
    "l'IBODE",
    "l'IADE",
    "le manip radio",
    "la sage-femme",
    "le référent info",
]
# cue words followed by something that is NOT a name
CUE_TRAPS = [
    "mme la cadre",
    "Madame la directrice",
    "M. le directeur",
    "le Dr de garde",
    "pat. agité",
    "patient du 12",
    "résidente du 214",
    "IDE de nuit",
    "fils au tel",
    "fille sur place",
    "monsieur le maire",
    "madame la présidente de la CME",
    "Dr absent",
    "le docteur",
    "pat non vu",
    "mr le chef de pôle",
    "patiente désorientée",
    "résident suivant",
    "IDE coordo",
    "Mme la DSI",
    "monsieur du 8",
    "la fille du 12",
    "pat. suivant",
    "docteur de garde",
    "mlle l'interne",
]
# words that are also surnames, used as ordinary words
COMMON_TRAPS = [
    "écran blanc",
    "page blanche",
    "petit bug",
    "un petit souci",
    "base Vidal",
    "le Vidal",
    "vérif ds le vidal",
    "petit écran",
    "voyant rouge",
    "écran tout blanc",
    "le petit chariot",
    "plus petit",
    "pain blanc",
    "vin blanc",
    "un brun de retard",
    "au moulin à café",
    "le boulanger livre",
    "le berger allemand du visiteur",
    "chou roux",
    "gros blanc à l'oral",
    "papier blanc",
    "petit déj",
    "la saint-martin",
    "le grand salon",
    "la rose des vents",
]
WARDS = [
    "pavillon Pasteur",
    "bât. Calmette",
    "unité Charcot",
    "aile Vauban",
    "bâtiment Huriez",
    "service Lambret",
    "hôpital Huriez",
    "unité Alzheimer",
    "USLD",
    "UHCD",
    "SSR",
    "UCC",
    "PASA",
    "UHR",
    "court séjour gériatrique",
    "médecine interne",
    "cardio",
    "pneumo",
    "neuro",
    "ortho",
    "réa",
    "urgences",
    "soins palliatifs",
]
HOSPITALS = [
    "CHU Lille",
    "CH de Roubaix",
    "EHPAD les Tilleuls",
    "EHPAD Les Glycines",
    "CHU de Rennes",
    "CH Dunkerque",
    "la clinique",
    "l'EHPAD",
    "CHRU",
    "GHT",
    "HAD",
    "le SMUR",
    "le 15",
]
STREET_NAMES = [
    "des Lilas",
    "Jean Jaurès",
    "Victor Hugo",
    "de la Gare",
    "du Moulin",
    "Pasteur",
    "des Écoles",
    "Nationale",
    "de Paris",
    "Gambetta",
    "du Général de Gaulle",
    "Foch",
    "de la République",
    "des Roses",
    "du Château",
    "de l'Église",
    "Saint-Pierre",
    "des Acacias",
    "de la Liberté",
    "Jules Ferry",
    "du 8 Mai 1945",
    "Carnot",
    "de Verdun",
    "des Peupliers",
    "Anatole France",
    "Émile Zola",
    "de la Mairie",
    "du Stade",
    "des Tilleuls",
    "Léon Blum",
    "du Port",
    "de Lattre de Tassigny",
    "de Bretagne",
    "des Martyrs",
    "Roger Salengro",
    "de la Paix",
]
STREET_TYPES = [
    "rue",
    "rue",
    "rue",
    "r.",
    "avenue",
    "av.",
    "av",
    "boulevard",
    "bd",
    "chemin",
    "chem.",
    "allée",
    "impasse",
    "imp.",
    "place",
    "pl.",
    "route",
    "rte",
    "quai",
    "cours",
    "square",
    "Rue",
    "AV",
    "BD",
    "résidence",
]
TOWNS = [
    "59000 Lille",
    "69003 Lyon",
    "13005 Marseille",
    "33000 Bordeaux",
    "35000 Rennes",
    "29200 Brest",
    "44000 Nantes",
    "67000 Strasbourg",
    "31000 Toulouse",
    "59100 Roubaix",
    "62300 Lens",
    "80000 Amiens",
    "76600 Le Havre",
    "97400 Saint-Denis",
    "75015 Paris",
    "92100 Boulogne-Billancourt",
    "06000 Nice",
    "14000 Caen",
    "59650 Villeneuve-d'Ascq",
    "22300 Lannion",
    "56100 Lorient",
    "59280 Armentières",
    "20000 Ajaccio",
    "20200 Bastia",
    "62000 Arras",
    "59200 Tourcoing",
    "59140 Dunkerque",
    "02100 Saint-Quentin",
    "59700 Marcq-en-Barœul",
    "38000 Grenoble",
    "34000 Montpellier",
    "57000 Metz",
    "21000 Dijon",
    "86000 Poitiers",
    "97200 Fort-de-France",
    "59120 Loos",
    "62200 Boulogne-sur-Mer",
]
LIEUX_DITS = [
    "Les Granges",
    "la Croix Rouge",
    "Le Moulin Neuf",
    "les Quatre Vents",
    "Kerbernez",
    "la Fontaine",
    "le Bourg",
    "les Hauts Champs",
    "la Maladrerie",
    "Pont-Rouge",
]
EMAIL_DOMAINS = [
    "gmail.com",
    "orange.fr",
    "wanadoo.fr",
    "free.fr",
    "hotmail.fr",
    "yahoo.fr",
    "laposte.net",
    "sfr.fr",
    "chu-lille.fr",
    "ch-roubaix.fr",
    "aphp.fr",
    "chu-rennes.fr",
    "outlook.fr",
    "ehpad-lestilleuls.fr",
    "icloud.com",
    "live.fr",
    "gmail.fr",
    "neuf.fr",
]
MONTHS = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
]

SMS = {
    "pour": "pr",
    "dans": "ds",
    "toujours": "tjs",
    "problème": "pb",
    "quand": "qd",
    "beaucoup": "bcp",
    "avec": "avc",
    "rendez-vous": "rdv",
    "médecin": "méd",
    "ordonnance": "ordo",
    "prescription": "prescri",
    "téléphone": "tél",
    "minutes": "min",
    "c'est": "c",
    "quelqu'un": "qqn",
    "aujourd'hui": "ajd",
    "parce que": "pcq",
    "pendant": "pdt",
    "tout": "tt",
    "plusieurs": "plsrs",
    "il y a": "ya",
    "chambre": "ch",
    "information": "info",
    "transmissions": "transmi",
    "patient": "pt",
    "temps": "tps",
    "rien": "rin",
    "sont": "st",
    "mais": "ms",
    "très": "tr",
    "encore": "enc",
    "demande": "dde",
    "après": "apr",
}

# --------------------------------------------------------------------------------------------
# Templates. Slots in capitals between braces. Work fragments carry no identifier.
# --------------------------------------------------------------------------------------------

WORK = [
    "{ROOM} {SOFT} n'affiche pas le plan de soins",
    "{ROOM} {SOFT} plante au moment de valider",
    "{ROOM} {SOFT} n'affiche pas",
    "{ROOM} {SOFT} figé, reboot",
    "{ROOM} {SOFT} ne charge pas la prescription",
    "{ROOM} {SOFT} bloque sur la validation",
    "{ROOM} {SOFT} écran gris",
    "{ROOM} {SOFT} demande de se reconnecter",
    "{ROOM} {SOFT} pas à jour",
    "{ROOM} {SOFT} affiche l'ancien traitement",
    "{ROLE} interrompue {COUNT} pendant la prépa des piluliers",
    "double saisie {SOFT} + papier pour les constantes",
    "mot de passe expiré sur {SOFT}, {ROLE} attend {COUNT}",
    "badge ne passe pas sur le {DEVICE}, {ROLE} utilise la session de {ROLE}",
    "appel de la pharmacie sur {EXT} pendant la distrib",
    "sonnette {ROOM} {COUNT} en {COUNT}",
    "{ROLE} appelée sur {EXT} en plein soin",
    "{SOFT} déconnecte toutes les {COUNT}",
    "{DEVICE} déchargé, batterie {PCT}",
    "retour papier car {SOFT} indispo depuis {TIME}",
    "{ROLE} recopie les transmissions de {SOFT} sur un cahier",
    "prescription {DOSE} pas visible dans {SOFT}",
    "{DOSE} à passer {TIME}, {SOFT} ne propose pas la case",
    "perfusion {DOSE}, le pousse-seringue sonne {COUNT}",
    "{ROLE} cherche un PC libre {COUNT}",
    "lenteur {SOFT} {COUNT} pour ouvrir le {DOC}",
    "{SOFT} crash lors de l'impression du {DOC}",
    "{ROLE} ne trouve pas le {DOC} dans {SOFT}",
    "le {DOC} est encore sur papier, {ROLE} le scanne dans {SOFT}",
    "{DOCDATE} affichée dans le poste de soins, personne ne la lit",
    "procédure datée du {DOCDATE_D}, jamais mise à jour",
    "version du {DOCDATE_M} du protocole chute",
    "{ROLE} consulte la procédure {SOFT} datée du {DOCDATE_D}",
    "classeur des protocoles: {DOCDATE}",
    "alerte {SOFT} ignorée {COUNT}",
    "{COUNT} alertes {SOFT} non lues en début de poste",
    "{ROLE} valide les soins en fin de poste à {TIME}",
    "traçabilité a posteriori {TIME}-{TIME}",
    "{ROLE} note sur sa main puis ressaisit",
    "{ROLE} garde un post-it avec {COUNT} codes",
    "code wifi collé sur le {DEVICE}",
    "{DEVICE} ne lit pas le bracelet {ROOM}",
    "{ROOM} lit vide mais {SOFT} affiche occupé",
    "{ROOM} bracelet illisible, identito à l'oral",
    "{ROLE} fait les transmissions dans le couloir à {TIME}",
    "transmissions ciblées non remplies dans {SOFT}",
    "temps de transmissions: {COUNT}",
    "{PCT} des soins tracés après coup",
    "{ROLE} appelle {ROLE} sur {EXT}, pas de réponse",
    "{EXT} sonne dans le vide",
    "{ROLE} doit descendre au {WARD} chercher le {DEVICE}",
    "demande de transport via {SOFT}, délai {COUNT}",
    "{HOSP} appelle pour un transfert, fiche de liaison pas prête",
    "fax du {HOSP} reçu illisible",
    "envoi du courrier par {SOFT} impossible",
    "{SOFT} refuse la carte CPS",
    "lecteur CPS HS, {ROLE} utilise la carte de {ROLE}",
    "{ROLE} reste connecté sur {SOFT} et part en pause",
    "session ouverte sans personne devant, {ROOM}",
    "{SOFT} et {SOFT} ne se parlent pas: double saisie",
    "triple saisie {SOFT} / {SOFT} / papier",
    "résultats labo à aller chercher dans {SOFT}",
    "{ROLE} imprime le {DOC} pour le relire",
    "imprimante {WARD} bourrée, {COUNT} de perdu",
    "{COUNT} allers-retours salle de soins - {ROOM}",
    "chariot de soins sans PC ce matin",
    "{ROLE} demande un mot de passe à {ROLE}",
    "réinitialisation mdp par le support: {COUNT} d'attente",
    "ticket GLPI ouvert, {MISC}",
    "{MISC} au lancement de {SOFT}",
    "{SOFT} {MISC}",
    "mise à jour {SOFT} {MISC} pendant la relève",
    "appel hotline {EXT}",
    "{ROLE} interrompt {ROLE} pour une signature",
    "sonnette {ROOM} pendant la préparation des injections {DOSE}",
    "{ROOM} et {ROOM} sonnent en même temps",
    "{COUNT} sonnettes en {COUNT}",
    "{ROLE} écrit la glycémie sur un gant",
    "glycémie {MISC_G} reportée à la main",
    "{DOSE} d'insuline, double contrôle non tracé",
    "stupéfiants: cahier papier + {SOFT}",
    "armoire sécurisée {DEVICE} bloquée, {ROLE} appelle {EXT}",
    "{ROLE} prépare les piluliers de {COUNT} à {TIME}",
    "pilulier {ROOM} à refaire, changement de prescription",
    "{SOFT} ne remonte pas l'arrêt du traitement",
    "planning {SOFT} pas à jour, {ROLE} rappelle",
    "{SOFT} planning: {COUNT} postes non pourvus",
    "badge perdu, {ROLE} entre avec le badge de {ROLE}",
    "porte codée {ROOM}, badge refusé",
    "appel de la pharmacie: rupture, {DOSE} remplacé",
    "la pharmacie rappelle sur {EXT} pour {DOSE}",
    "{ROLE} lit le {DOC} sur l'écran du couloir",
    "écran visible depuis le couloir, {ROOM}",
    "{COMMON} sur {SOFT} au démarrage",
    "{SOFT}: {COMMON}",
    "{COMMON}, {ROLE} relance",
    "{ROLE} rit: « {COMMON} »",
    "{CUE_TRAP} demande le point {TIME}",
    "{CUE_TRAP} appelle sur {EXT}",
    "{CUE_TRAP}, {SOFT} ouvert",
    "réunion avec {CUE_TRAP} à {TIME}",
    "{CUE_TRAP} {ROOM}, sonnette",
    "{ROLE} doit se reloguer {COUNT}",
    "déconnexion auto trop courte ({COUNT})",
    "{SOFT} sur {DEVICE} en 4G, ça rame",
    "pas de réseau {ROOM}, {ROLE} saisit plus tard",
    "wifi coupe au bout du couloir ({ROOM})",
    "{DEVICE} du {WARD} prêté au {WARD}",
    "DECT partagé entre {COUNT}",
    "{ROLE} porte 2 DECT",
    "{SOFT} envoie {COUNT} notifs inutiles",
    "messagerie {SOFT} saturée",
    "mail pharmacie via {SOFT} lu à {TIME}",
    "{ROLE} cherche l'info dans {SOFT} puis dans {SOFT}",
    "{SOFT} vs papier: le papier gagne, plus rapide",
    "{ROLE} dit que {SOFT} « fait perdre {COUNT} par jour »",
    "entretien {ROLE}: {SOFT} mal paramétré",
    "observation {TIME}-{TIME} poste de soins {WARD}",
    "obs {TIME} {WARD}",
    "relève {TIME}, {COUNT} présents",
    "{COUNT} interruptions pendant la relève",
    "{ROOM} sortie, lettre de sortie pas signée dans {SOFT}",
    "{ROOM} entrée, {SOFT} crée le séjour en retard",
    "{ROOM} transfert {HOSP}, dossier imprimé",
    "{ROLE} remplit la fiche de transfert à la main",
    "prise de RDV sur {SOFT} pour {ROOM}",
    "{SOFT} n'a pas le créneau, {ROLE} appelle",
    "{ROLE} reçoit les résultats sur {SOFT}",
    "{SOFT} bloque le compte après {COUNT} essais",
    "{ROLE} partage son code {SOFT} avec {ROLE}",
    "{ROLE} valide à la place de {ROLE}",
    "{ROLE} signe pour {ROLE} faute de temps",
    "administration {DOSE} à {TIME} tracée à {TIME}",
    "{DOSE} {TIME} / {DOSE} {TIME}",
    "débit {DOSE} modifié oralement, non saisi",
    "{ROOM} {DOSE} oublié dans le {DOC}",
    "calcul de dose à la main ({DOSE})",
    "{ROLE} utilise la calculatrice du téléphone perso",
    "téléphone perso utilisé pour photo de plaie, {ROOM}",
    "photo de plaie envoyée par {SOFT}",
    "{SOFT} télé-expertise pas ouverte",
    "{COUNT} patients, {COUNT} IDE",
    "charge: {COUNT} résidents pour {ROLE}",
    "taux d'occupation {PCT}",
    "{PCT} des alertes non pertinentes selon {ROLE}",
    "{ROLE} saute la pause pour finir la saisie",
    "fin de poste {TIME}, saisie jusqu'à {TIME}",
    "{ROLE} dit ne le trouve pas dans {SOFT}",
    "l'IDE ne le voit pas dans {SOFT}",
    "accès {SOFT} donné le {DOCDATE_D} seulement",
    "badge donné le {DOCDATE_D}, toujours pas actif",
    "compte créé le {DOCDATE_D} par la DSI",
    "RDV pris le {DOCDATE_S} à {TIME}",
    "bilan du {DOCDATE_S} pas intégré",
    "{WARD}: {SOFT} déployé en {DOCDATE_Y}",
    "formation {SOFT} prévue le {DOCDATE_S}",
    "{ROLE} en formation {SOFT}, remplacée par {ROLE}",
    "{DEVICE} en réparation depuis {COUNT}",
    "étiquettes {DEVICE} mal alignées",
    "scan du bracelet {ROOM} ok {COUNT}, échec {COUNT}",
    "{ROOM} {DEVICE} ne trouve pas le patient",
    "{SOFT} affiche le mauvais lit {ROOM}",
    "{ROOM} / {ROOM}: inversion dans {SOFT}",
    "{ROLE} passe {PCT} du temps sur l'écran",
    "sonnette {ROOM} non entendue, {DEVICE} en silencieux",
    "{DEVICE} muet, alarme {ROOM} manquée",
    "{SOFT} alarme lit {ROOM} déclenchée à tort",
    "{ROLE} éteint l'alarme {SOFT}",
    "appel {HOSP} à {TIME}",
    "{HOSP}: dossier pas partagé",
    "{SOFT} pas connecté au {HOSP}",
]

# identifier fragments, by the kind they are chosen for
ID_FRAGMENTS: dict[str, list[str]] = {
    "name": [
        "{PAT} refuse le soin, noté dans {SOFT}",
        "{PAT} ({ROOM}) sonne {COUNT}",
        "{ROLE} cherche le dossier de {PAT} dans {SOFT}",
        "{SOFT} affiche {PAT} au lieu du bon patient",
        "bracelet de {PAT} pas scanné",
        "{PAT} chute à {TIME}, FEI sur {SOFT}",
        "{PAT} sortie prévue, courrier pas prêt",
        "{ROOM} {PAT} pilulier incomplet",
        "transmissions orales sur {PAT}",
        "{FULL} a sonné {COUNT}",
        "homonymie {PAT} / {PAT} dans {SOFT}",
        "{PAT}",
        "{FULL}",
        "{ROLE} appelle {REL} pour un accord",
        "{REL} au tel, demande des nouvelles",
        "visite de {REL}, interrompt la distrib à {TIME}",
        "{STAFF} se connecte sur la session de {STAFF}",
        "{STAFF} valide à la place du médecin",
        "{FIRST} fait les transmissions dans le couloir",
        "demande à {FIRST} de relancer {SOFT}",
        "{STAFF} appelé sur {EXT}",
        "avis du {DR} par tel, prescription orale non saisie",
        "{DR} prescrit {DOSE} à l'oral",
        "{FIRST} (AS) et {FIRST} (IDE) se partagent le {DEVICE}",
        "{PAT} {ROOM}",
        "{ROOM}: {PAT} agitée, {ROLE} appelle le {DR}",
        "{ROLE} confond {PAT} et {PAT}",
        "{FULL} en {ROOM}, {SOFT} dit {ROOM}",
        "étiquette {PAT} collée sur le tube de {PAT}",
        "{PAT} {DOSE} {TIME}",
        "{FULL}: pilulier du soir vide",
        "{STAFF} dit que {SOFT} rame",
        "mail de {DR} sur {SOFT}",
        "{REL} demande le code wifi",
        "{PAT} attend le {DR} depuis {TIME}",
        "{ROOM} = {PAT}",
        "{PAT} décédé, {SOFT} envoie encore les alertes",
    ],
    "phone": [
        "fille joignable au {PHONE}",
        "rappeler {REL} au {PHONE}",
        "num famille sur post-it collé à l'écran: {PHONE}",
        "{PHONE}",
        "{PHONE} rappeler le fils",
        "tel perso de {ROLE} affiché en salle de soins {PHONE}",
        "le n° {PHONE} est en dur dans {SOFT}",
        "{ROLE} appelle le {PHONE} depuis son portable",
        "personne de confiance: {PHONE}",
        "{PAT} tél {PHONE}",
        "contact urgence {PHONE}",
        "{REL} a laissé son num {PHONE}",
    ],
    "email": [
        "envoi CR par mail perso {EMAIL} faute de {SOFT}",
        "{ROLE} transfère les résultats à {EMAIL}",
        "contact famille: {EMAIL}",
        "adresse {EMAIL} en clair sur le tableau blanc",
        "{EMAIL}",
        "compte {SOFT} au nom de {EMAIL}",
        "{REL} écrit à {EMAIL}",
        "{ROLE} utilise {EMAIL} pour {SOFT}",
        "mail envoyé de {EMAIL} vers {EMAIL}",
    ],
    "nir": [
        "{NIR} recopié à la main",
        "carte vitale illisible, saisie manuelle {NIRB}",
        "{SOFT} refuse l'INS, ressaisie {NIR}",
        "{PAT} {NIR}",
        "erreur de saisie {NIR}",
        "{NIRB}",
        "{ROLE} lit le {NIR} à voix haute",
        "{NIR} sur un post-it",
        "doublon {SOFT} avec {NIR}",
    ],
    "patient_number": [
        "{PNUM} introuvable dans {SOFT}",
        "étiquettes imprimées avec le mauvais {PNUM}",
        "recherche par {PNUM} au lieu du nom",
        "{SOFT} crée un doublon {PNUM} / {PNUM}",
        "{PNUM}",
        "{PAT} {PNUM}",
        "{ROLE} dicte {PNUM} au tel",
        "{ROOM} {PNUM} {SOFT} ne trouve pas",
        "bon labo sans {PNUM}",
    ],
    "birth_date": [
        "{PAT} {DDN}",
        "identito vérifiée: nom + {DDN}",
        "{SOFT} inverse jour/mois, {DDN}",
        "bracelet: {PAT} {DDN}",
        "{DDN}",
        "{ROLE} demande {DDN} au patient",
        "{FULL} {DDN}",
        "{DDN} {ROOM}",
        "homonyme {DDN} dans {SOFT}",
    ],
    "address": [
        "{PAT} domicile {ADDR}",
        "ambulance envoyée au {ADDR} au lieu de {HOSP}",
        "adresse saisie {ADDR} dans {SOFT}",
        "retour à domicile {ADDR}",
        "{ADDR}",
        "{REL} habite {ADDR}",
        "adresse du patient fausse dans {SOFT}: {ADDR}",
        "courrier renvoyé, {ADDR}",
        "HAD au {ADDR}",
    ],
}

SEPARATORS = [". ", ", ", " - ", " / ", "; ", " ", " -> ", " | ", "\n", ".. ", " + ", ": ", " ; ", " .", "  "]


class Gen:
    def __init__(self, rng: random.Random) -> None:
        self.r = rng

    # ---------------------------------------------------------------- helpers
    def ch(self, seq: list[str] | tuple[str, ...]) -> str:
        return seq[self.r.randrange(len(seq))]

    def p(self, prob: float) -> bool:
        return self.r.random() < prob

    def vary_case(self, s: str) -> str:
        x = self.r.random()
        if x < 0.2:
            return s.lower()
        if x < 0.3:
            return s.upper()
        return s

    def obfuscate_digits(self, s: str, strength: float = 1.0) -> str:
        """Zero-width spaces, non-breaking spaces, full-width digits: the text as it would be typed."""
        x = self.r.random() / strength
        if x < 0.06:
            return s.translate({ord(d): 0xFF10 + int(d) for d in "0123456789"})
        if x < 0.12:
            return s.replace(" ", NBSP) if " " in s else s[:2] + NBSP + s[2:]
        if x < 0.15:
            return s.replace(" ", NNBSP) if " " in s else s
        if x < 0.21:
            pos = self.r.randrange(1, len(s))
            return s[:pos] + ZWSP + s[pos:]
        if x < 0.23:
            chars = list(s)
            out = [c if not c.isdigit() or self.p(0.5) else chr(0xFF10 + int(c)) for c in chars]
            return "".join(out)
        return s

    # ---------------------------------------------------------------- risky slots
    def room(self) -> str:
        n = self.r.choice([self.r.randint(1, 40), self.r.randint(100, 350)])
        forms = [
            f"ch {n}",
            f"ch.{n}",
            f"ch{n}",
            f"chambre {n}",
            f"lit {self.r.randint(1, 4)}",
            f"ch {n} lit {self.r.randint(1, 2)}",
            f"box {self.r.randint(1, 12)}",
            f"CH {n}",
            f"Ch. {n}",
            f"chbre {n}",
            f"ch {n} bis",
            f"salle {self.r.randint(1, 6)}",
            f"ch {n}A",
            f"la {n}",
            f"porte {n}",
        ]
        return self.ch(forms)

    def dose(self) -> str:
        forms = [
            f"{self.r.choice([1, 2, 5, 10, 20, 40, 80, 100, 250, 500])} mg",
            f"{self.r.choice(['0,5', '1', '2', '2,5', '4', '10'])} ml/h",
            f"{self.r.randint(1, 3)} cp",
            f"{self.r.choice([1, 2])} g x{self.r.randint(2, 4)}/j",
            f"{self.r.choice([250, 500, 1000])}mg",
            f"{self.r.randint(2, 40)} UI",
            f"{self.r.choice(['0,25', '0.5', '1,5'])} mg/kg",
            "1 amp",
            f"{self.r.randint(5, 40)} gouttes",
            f"{self.r.choice([50, 100, 200])} µg",
            f"{self.r.choice([5, 10, 20])}{NBSP}mg",
            f"{self.r.choice([500, 1000])} ml sur 24h",
            f"{self.r.randint(1, 6)} l/min O2",
        ]
        return self.ch(forms)

    def ext(self) -> str:
        n4 = self.r.randint(1000, 9999)
        n3 = self.r.randint(100, 999)
        forms = [
            f"poste {n4}",
            f"bip {n3}",
            f"dect {n4}",
            f"DECT {n4}",
            f"p.{n4}",
            f"poste {n4 // 100} {n4 % 100:02d}",
            f"bip{n3}",
            f"dect n°{n4}",
            f"le {n4}",
            f"tel poste {n4}",
            f"ext. {n4}",
            f"Ascom {n4}",
            f"le {n4 // 100} {n4 % 100:02d}",
            f"Vocera {n3}",
        ]
        return self.ch(forms)

    def docdate_d(self) -> str:
        d, m, y = self.r.randint(1, 28), self.r.randint(1, 12), self.r.randint(2008, 2025)
        return self.ch(
            [f"{d:02d}/{m:02d}/{y}", f"{d}/{m}/{y}", f"{d:02d}.{m:02d}.{y}", f"{d:02d}/{m:02d}/{y % 100:02d}"]
        )

    def docdate_m(self) -> str:
        m, y = self.r.randint(1, 12), self.r.randint(2008, 2025)
        return self.ch([f"{m:02d}/{y}", f"{self.ch(MONTHS)} {y}", f"{m}/{y}"])

    def docdate_s(self) -> str:
        d, m = self.r.randint(1, 28), self.r.randint(1, 12)
        return self.ch([f"{d:02d}/{m:02d}", f"{d}/{m}", f"{d} {self.ch(MONTHS)}"])

    def docdate_phrase(self) -> tuple[str, str]:
        date = self.ch([self.docdate_d(), self.docdate_m()])
        lead = self.ch(
            ["note de service du ", "procédure du ", "MAJ du ", "affiche version ", "protocole du "]
        )
        return lead, date

    def time(self) -> str:
        h, m = self.r.randint(6, 23), self.r.choice([0, 5, 10, 15, 20, 30, 45, 50])
        return self.ch([f"{h}h{m:02d}", f"{h}h", f"{h}:{m:02d}", f"{h}H{m:02d}", f"{h} h {m:02d}"])

    def count(self) -> str:
        n = self.r.randint(2, 45)
        return self.ch(
            [
                f"{n} fois",
                f"{n} résidents",
                f"{n} interruptions",
                f"{n} patients",
                f"{n} min",
                f"{n} sec",
                f"{n} clics",
                f"{self.r.randint(2, 6)} écrans",
                f"x{self.r.randint(2, 9)}",
                f"{n}mn",
                f"{self.r.randint(2, 9)} IDE",
                f"{n} appels",
                f"{self.r.randint(1, 3)}h",
            ]
        )

    def pct(self) -> str:
        n = self.r.choice([5, 10, 15, 20, 30, 40, 50, 60, 75, 80, 90, 100])
        return self.ch([f"{n}%", f"{n} %", f"{n}{NBSP}%", f"{n} pourcent"])

    def misc(self) -> str:
        return self.ch(
            [
                f"ticket n° {self.r.randint(100000, 999999)}",
                f"erreur {self.r.choice([404, 500, 503, 1603])}",
                f"v{self.r.randint(1, 12)}.{self.r.randint(0, 9)}",
                f"code erreur {self.r.randint(1000, 9999)}",
                f"UF {self.r.randint(1000, 9999)}",
                f"lot {self.r.randint(10, 99)}A{self.r.randint(100, 999)}",
                "FINESS 590780193",
                f"version {self.r.randint(1, 20)}.{self.r.randint(0, 9)}.{self.r.randint(0, 9)}",
                f"PC n° {self.r.randint(1, 60)}",
                f"erreur 0x{self.r.randint(0x10000000, 0x8FFFFFFF):08X}",
                f"{self.r.randint(2, 9)} go de RAM",
                f"écran {self.r.choice([15, 17, 19, 22])} pouces",
            ]
        )

    def glyc(self) -> str:
        return self.ch(
            [f"{self.r.randint(5, 30) / 10:.1f} g/l".replace(".", ","), f"{self.r.randint(60, 300)} mg/dl"]
        )

    # ---------------------------------------------------------------- identifier slots
    def surname(self) -> str:
        return self.vary_case(self.ch(SURNAMES))

    def first(self) -> str:
        return self.vary_case(self.ch(FIRST_NAMES))

    def initial(self) -> str:
        s = self.ch(SURNAMES)
        letter = unicodedata.normalize("NFD", s)[0].upper()
        return (
            self.ch([f"{letter}.", f"{letter}.", f"{letter}", f"{s[:2]}."])
            if s[:2].isalpha()
            else f"{letter}."
        )

    def name_part(self) -> str:
        x = self.r.random()
        if x < 0.55:
            return self.surname()
        if x < 0.72:
            return f"{self.first()} {self.surname()}"
        if x < 0.87:
            return self.initial()
        if x < 0.93:
            return f"{self.first()[0]}. {self.surname()}"
        return f"{self.surname()} {self.first()}"

    def pat(self) -> list[Piece]:
        cue = self.ch(
            [
                "Mme ",
                "mme ",
                "Mme ",
                "M. ",
                "m. ",
                "Mr ",
                "mr ",
                "Monsieur ",
                "monsieur ",
                "Madame ",
                "madame ",
                "Mlle ",
                "mlle ",
                "résidente ",
                "résident ",
                "patient ",
                "patiente ",
                "pat. ",
                "pat ",
                "MME ",
                "Mr. ",
                "mm ",
                "mr. ",
                "Mme. ",
                "la résidente ",
                "le patient ",
            ]
        )
        return [(cue, "cue"), (self.name_part(), "name")]

    def full(self) -> list[Piece]:
        return [(self.vary_case(f"{self.ch(FIRST_NAMES)} {self.ch(SURNAMES)}"), "name")]

    def staff(self) -> list[Piece]:
        x = self.r.random()
        if x < 0.3:
            return [
                (self.ch(["IDE ", "ide ", "l'IDE ", "AS ", "l'AS ", "ASH ", "IDEC ", "cadre "]), "cue"),
                (self.ch([self.surname(), self.first()]), "name"),
            ]
        if x < 0.55:
            return self.dr()
        if x < 0.8:
            return [(self.first(), "name")]
        role = self.ch(["(IDE)", "l'AS", "(ASH)", "IDE nuit", "de l'équipe B", "(AS de nuit)"])
        return [(self.first(), "name"), (" ", ""), (role, "risky")]

    def first_only(self) -> list[Piece]:
        return [(self.first(), "name")]

    def dr(self) -> list[Piece]:
        cue = self.ch(["Dr ", "dr ", "Dr. ", "docteur ", "Docteur ", "DR ", "Pr ", "dr. "])
        return [(cue, "cue"), (self.ch([self.surname(), self.surname(), self.initial()]), "name")]

    def rel(self) -> list[Piece]:
        lead = self.ch(
            [
                "fils de ",
                "fille de ",
                "la fille de ",
                "le fils de ",
                "épouse de ",
                "mari de ",
                "nièce de ",
                "petite-fille de ",
                "fils ",
                "fille ",
                "la fille ",
            ]
        )
        x = self.r.random()
        if x < 0.4:
            return [(lead, "cue"), *self.pat()]
        if x < 0.7:
            return [(lead, "cue"), (self.surname(), "name")]
        if x < 0.85:
            # the relative named, then whose relative
            return [
                (self.ch(["Mme ", "M. ", "mme ", "monsieur "]), "cue"),
                (self.surname(), "name"),
                (" (" + lead.strip() + " ", "cue"),
                *self.pat(),
                (")", ""),
            ]
        return [(lead, "cue"), (self.first(), "name")]

    def phone_number(self) -> str:
        lead = self.ch(["6", "6", "6", "7", "1", "2", "3", "3", "4", "5", "9"])
        d = [lead] + [str(self.r.randint(0, 9)) for _ in range(8)]
        pairs = ["0" + d[0]] + ["".join(d[i : i + 2]) for i in range(1, 9, 2)]
        tail = pairs[1:]
        x = self.r.randrange(17)
        forms = [
            " ".join(pairs),
            ".".join(pairs),
            "-".join(pairs),
            "/".join(pairs),
            "".join(pairs),
            pairs[0] + "  " + " ".join(tail),
            "+33 " + d[0] + " " + " ".join(tail),
            "+33" + d[0] + " " + " ".join(tail),
            "+33" + "".join(d),
            "0033 " + d[0] + " " + " ".join(tail),
            "+33(0)" + d[0] + " " + " ".join(tail),
            "+33 (0)" + d[0] + " " + ".".join(tail),
            pairs[0] + pairs[1] + " " + " ".join(pairs[2:]),
            " ".join(pairs[:2]) + "  " + " ".join(pairs[2:]),
            "+33 " + d[0] + "." + ".".join(tail),
            "0033" + "".join(d),
            ". ".join(pairs),
        ]
        return forms[x]

    def phone(self) -> list[Piece]:
        num = self.obfuscate_digits(self.phone_number(), 1.3)
        if self.p(0.35):
            cue = self.ch(["tel ", "tél: ", "Tel. ", "port. ", "portable ", "num: ", "num ", "☎ ", "n° "])
            return [(cue, "cue"), (num, "phone")]
        return [(num, "phone")]

    def email(self) -> list[Piece]:
        def ascii_(s: str) -> str:
            s = unicodedata.normalize("NFD", s)
            s = "".join(c for c in s if not unicodedata.combining(c))
            return re.sub(r"[^A-Za-z-]", "", s).lower()

        f, s = ascii_(self.ch(FIRST_NAMES)), ascii_(self.ch(SURNAMES))
        local = self.ch(
            [
                f"{f}.{s}",
                f"{f[0]}.{s}",
                f"{f}{s}",
                f"{s}.{f}",
                f"{f}_{s}",
                f"{f}.{s}{self.r.randint(1, 99)}",
                f"{s}-{f}",
                f"{f}{self.r.randint(1930, 2005)}",
                f"{s}{f[0]}",
                f"{f}.{s}.{self.r.randint(1, 9)}",
            ]
        )
        dom = self.ch(EMAIL_DOMAINS)
        at = self.ch(["@", "@", "@", "@", " @ ", "(at)", "[at]", " arobase ", " at ", "@ ", " (at) "])
        addr = f"{local}{at}{dom}"
        if self.p(0.12):
            addr = addr.upper()
        elif self.p(0.1):
            addr = addr.capitalize()
        if self.p(0.05):
            addr = addr.replace(".", " . ", 1) if at == "@" else addr
        if self.p(0.3):
            return [
                (self.ch(["mail: ", "email ", "courriel : ", "mel ", "adresse mail "]), "cue"),
                (addr, "email"),
            ]
        return [(addr, "email")]

    def nir_number(self) -> str:
        sex = self.ch(["1", "2"] * 6 + ["7", "8", "3", "4"])
        yy = f"{self.r.randint(0, 99):02d}"
        mm = f"{self.r.randint(1, 12):02d}"
        x = self.r.random()
        if x < 0.08:
            dept, commune = self.ch(["2A", "2B"]), f"{self.r.randint(1, 366):03d}"
        elif x < 0.14:
            dept, commune = f"{self.r.randint(971, 976)}", f"{self.r.randint(1, 99):02d}"
        elif x < 0.18:
            dept, commune = "99", f"{self.r.randint(100, 450):03d}"  # born abroad
        else:
            dd = self.r.randint(1, 95)
            while dd == 20:
                dd = self.r.randint(1, 95)
            dept, commune = f"{dd:02d}", f"{self.r.randint(1, 999):03d}"
        order = f"{self.r.randint(1, 999):03d}"
        body = sex + yy + mm + dept + commune + order
        assert len(body) == 13, body
        key = nir_key(body)
        dc = dept + commune  # 5 chars
        groups = [sex, yy, mm, dc[:2], dc[2:], order]
        with_key = self.p(0.8)
        kform = self.r.randrange(8)
        if kform == 0:
            s = " ".join(groups)
        elif kform == 1:
            s = "".join(groups)
        elif kform == 2:
            s = ".".join(groups)
        elif kform == 3:
            s = "-".join(groups)
        elif kform == 4:
            s = body
        elif kform == 5:
            s = " ".join(groups[:3]) + " " + "".join(groups[3:])
        elif kform == 6:
            s = "".join(groups[:3]) + " " + " ".join(groups[3:])
        else:
            s = " ".join(groups).replace(" ", "  ", 1)
        if with_key:
            sep = {1: "", 4: "", 2: ".", 3: "-"}.get(kform, self.ch([" ", " ", "  ", " "]))
            if kform in (1, 4) and self.p(0.3):
                sep = " "
            s = s + sep + key
        return s

    def nir(self) -> list[Piece]:
        cue = self.ch(
            [
                "NIR ",
                "nir: ",
                "n° sécu ",
                "num secu ",
                "sécu ",
                "n°SS ",
                "NSS ",
                "carte vitale ",
                "INS ",
                "matricule INS ",
                "n° de sécu ",
                "secu: ",
                "numéro de sécurité sociale ",
                "NIR : ",
                "immatriculation ",
            ]
        )
        return [(cue, "cue"), (self.obfuscate_digits(self.nir_number(), 1.3), "nir")]

    def nirb(self) -> list[Piece]:
        return [(self.obfuscate_digits(self.nir_number(), 1.3), "nir")]

    def pnum(self) -> list[Piece]:
        label = self.ch(
            [
                "IPP ",
                "ipp ",
                "IPP: ",
                "IPP n° ",
                "ipp:",
                "NDA ",
                "nda: ",
                "NDA n°",
                "n° séjour ",
                "num sejour ",
                "NIP ",
                "nip ",
                "n° venue ",
                "IEP ",
                "n°dossier ",
                "no dossier patient ",
                "n° admission ",
                "séjour n° ",
                "N° de séjour : ",
                "num venue ",
                "n° IPP ",
                "IPP=",
                "NDA:",
                "dossier n° ",
                "visite n° ",
            ]
        )
        kind = label.lower()
        if "ipp" in kind or "dossier" in kind or "nip" in kind:
            num = self.ch(
                [
                    f"{self.r.randint(10**8, 10**9 - 1)}",
                    f"{self.r.randint(0, 10**7 - 1):09d}",
                    f"00{self.r.randint(10**4, 10**5 - 1)}",
                    f"{self.r.randint(10**7, 10**8 - 1)}",
                ]
            )
        elif "nda" in kind or "venue" in kind or "visite" in kind or "iep" in kind:
            num = f"{self.r.randint(20, 25)}{self.r.randint(100000, 999999)}" + self.ch(
                ["", f"{self.r.randint(0, 99):02d}"]
            )
        else:
            num = f"{self.r.randint(20, 25)}{self.r.randint(0, 99):02d}{self.r.randint(0, 999999):06d}"
        if self.p(0.1) and len(num) >= 8:
            num = num[:3] + " " + num[3:6] + " " + num[6:]
        return [(label, "cue"), (self.obfuscate_digits(num, 1.0), "patient_number")]

    def ddn(self) -> list[Piece]:
        d, m, y = self.r.randint(1, 28), self.r.randint(1, 12), self.r.randint(1918, 1965)
        x = self.r.random()
        if x < 0.12:
            cue = self.ch(["né en ", "née en ", "nee en ", "né(e) en "])
            date = self.ch([str(y), f"{m:02d}/{y}"])
        elif x < 0.22:
            cue = self.ch(["né ", "née ", "nee ", "né(e) "])
            date = self.ch([f"{m:02d}/{y}", f"{d:02d}/{m:02d}/{y}", f"{d}/{m}/{y % 100:02d}"])
        else:
            cue = self.ch(
                [
                    "né le ",
                    "née le ",
                    "né(e) le ",
                    "nee le ",
                    "ne le ",
                    "ddn ",
                    "DDN: ",
                    "ddn: ",
                    "dn ",
                    "DN ",
                    "date de naissance ",
                    "date de naiss. ",
                    "naissance: ",
                    "Date de naissance : ",
                    "ddn=",
                    "DDN ",
                    "née le: ",
                ]
            )
            date = self.ch(
                [
                    f"{d:02d}/{m:02d}/{y}",
                    f"{d}/{m}/{y % 100:02d}",
                    f"{d:02d}.{m:02d}.{y}",
                    f"{d:02d}-{m:02d}-{y}",
                    f"{d} {self.ch(MONTHS)} {y}",
                    f"1er {self.ch(MONTHS)} {y}",
                    f"{d:02d}/{m:02d}/{y % 100:02d}",
                    f"{d}/{m}/{y}",
                    f"{d:02d}{m:02d}{y}",
                    f"{d:02d} {m:02d} {y}",
                ]
            )
        return [(cue, "cue"), (self.obfuscate_digits(date, 0.8), "birth_date")]

    def addr(self) -> list[Piece]:
        x = self.r.random()
        out: list[Piece] = []
        if x < 0.1:
            ld = self.ch(["lieu-dit ", "lieu dit ", "ld ", "Lieu-dit "]) + self.ch(LIEUX_DITS)
            out.append((ld, "address"))
        elif x < 0.2:
            out.append((self.vary_case(self.ch(TOWNS)), "address"))
            return out
        else:
            num = str(self.r.randint(1, 180))
            num += self.ch(["", "", "", "", " bis", " ter", "bis", " B", ","])
            street = f"{num} {self.ch(STREET_TYPES)} {self.ch(STREET_NAMES)}"
            if self.p(0.15):
                street = street.lower()
            out.append((street, "address"))
        if self.p(0.5):
            town = self.ch(TOWNS)
            if self.p(0.2):
                town = town.upper()
            elif self.p(0.1):
                town = town[:2] + " " + town[2:]
            out.append((self.ch([" ", ", ", " - ", "  ", ",", " "]), ""))
            out.append((town, "address"))
        return out

    # ---------------------------------------------------------------- template expansion
    def slot(self, name: str) -> list[Piece]:
        simple: dict[str, Callable[[], str]] = {
            "SOFT": lambda: self.vary_case(self.ch(SOFTWARE)) if self.p(0.25) else self.ch(SOFTWARE),
            "ROOM": lambda: self.obfuscate_digits(self.room(), 0.25),
            "DOSE": self.dose,
            "EXT": lambda: self.obfuscate_digits(self.ext(), 0.3),
            "ROLE": self.role,
            "TIME": self.time,
            "COUNT": self.count,
            "PCT": self.pct,
            "MISC": self.misc,
            "MISC_G": self.glyc,
            "WARD": lambda: self.ch(WARDS),
            "HOSP": lambda: self.ch(HOSPITALS),
            "DEVICE": lambda: self.ch(DEVICES),
            "CUE_TRAP": lambda: self.ch(CUE_TRAPS),
            "COMMON": lambda: self.ch(COMMON_TRAPS),
            "DOCDATE_D": self.docdate_d,
            "DOCDATE_M": self.docdate_m,
            "DOCDATE_S": self.docdate_s,
            "DOCDATE_Y": lambda: str(self.r.randint(2010, 2024)),
        }
        if name in simple:
            return [(simple[name](), "risky")]
        if name == "DOCDATE":
            lead, date = self.docdate_phrase()
            return [(lead, ""), (date, "risky")]
        if name == "DOC":
            return [(self.ch(DOCS), "")]
        if name == "N":
            return [(str(self.r.randint(1, 30)), "")]
        ident: dict[str, Callable[[], list[Piece]]] = {
            "PAT": self.pat,
            "FULL": self.full,
            "STAFF": self.staff,
            "FIRST": self.first_only,
            "DR": self.dr,
            "REL": self.rel,
            "PHONE": self.phone,
            "EMAIL": self.email,
            "NIR": self.nir,
            "NIRB": self.nirb,
            "PNUM": self.pnum,
            "DDN": self.ddn,
            "ADDR": self.addr,
        }
        return ident[name]()

    def role(self) -> str:
        return self.ch(ROLES) if self.p(0.85) else self.ch(ROLES).upper()

    def expand(self, template: str) -> list[Piece]:
        out: list[Piece] = []
        pos = 0
        for m in re.finditer(r"\{([A-Z_]+)\}", template):
            if m.start() > pos:
                out.append((template[pos : m.start()], ""))
            out.extend(self.slot(m.group(1)))
            pos = m.end()
        if pos < len(template):
            out.append((template[pos:], ""))
        return out


def nir_key(body13: str) -> str:
    """Key of a 13-character NIR body: 97 - (n mod 97), Corsica 2A/2B counted as 19/18."""
    n = int(body13.replace("2A", "19").replace("2B", "18")) if body13[5:7] in ("2A", "2B") else int(body13)
    return f"{97 - n % 97:02d}"


# --------------------------------------------------------------------------------------------
# Noise applied to a whole note, piece by piece so that labels stay exact
# --------------------------------------------------------------------------------------------


def strip_accents(s: str) -> str:
    out = []
    for c in unicodedata.normalize("NFD", s):
        if not unicodedata.combining(c):
            out.append(c)
    return unicodedata.normalize("NFC", "".join(out))


def typo(rng: random.Random, word: str) -> str:
    if len(word) < 4 or not word.isalpha():
        return word
    i = rng.randrange(1, len(word) - 1)
    k = rng.randrange(4)
    if k == 0:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if k == 1:
        return word[:i] + word[i + 1 :]
    if k == 2:
        return word[:i] + word[i] + word[i:]
    return word[:i] + rng.choice("azertyuiop") + word[i + 1 :]


def noisy(rng: random.Random, pieces: list[Piece]) -> list[Piece]:
    lower = rng.random() < 0.4
    upper = not lower and rng.random() < 0.04
    no_accents = rng.random() < 0.5
    sms = rng.random() < 0.35
    typos = rng.random() < 0.3
    doubles = rng.random() < 0.2
    no_punct = rng.random() < 0.3
    out: list[Piece] = []
    for text, tag in pieces:
        t = text
        if tag == "":
            if sms:
                for long, short in SMS.items():
                    if rng.random() < 0.6:
                        t = re.sub(rf"(?<!\w){re.escape(long)}(?!\w)", short, t)
            if typos:
                t = re.sub(r"\w+", lambda m: typo(rng, m.group(0)) if rng.random() < 0.08 else m.group(0), t)
            if no_punct:
                t = re.sub(r"[,.;:!](?=\s|$)", "", t)
            if doubles:
                t = re.sub(r" ", lambda m: "  " if rng.random() < 0.3 else " ", t)
        if lower:
            t = t.lower()
        elif upper:
            t = t.upper()
        if no_accents:
            t = strip_accents(t)
        out.append((t, tag))
    return out


# --------------------------------------------------------------------------------------------
# Notes
# --------------------------------------------------------------------------------------------


def build(g: Gen, kind: str | None) -> list[Piece]:
    r = g.r
    frags: list[list[Piece]] = []
    if kind is not None:
        frags.append(g.expand(g.ch(ID_FRAGMENTS[kind])))
        if g.p(0.3):
            other = g.ch(KINDS)
            frags.append(g.expand(g.ch(ID_FRAGMENTS[other])))
        n_work = 0 if g.p(0.12) else r.choice([0, 1, 1, 1, 2])
    else:
        n_work = r.choice([1, 1, 2, 2, 3])
    for _ in range(n_work):
        frags.append(g.expand(g.ch(WORK)))
    r.shuffle(frags)
    pieces: list[Piece] = []
    for i, f in enumerate(frags):
        if i:
            pieces.append((g.ch(SEPARATORS), ""))
        pieces.extend(f)
    if g.p(0.25):
        pieces.append((g.ch([".", " ..", "!", " ?", " !!", " (à revoir)", " -", " :/"]), ""))
    return pieces


def spans_of(pieces: list[Piece]) -> tuple[str, list[tuple[int, int, str]]]:
    text = ""
    spans: list[tuple[int, int, str]] = []
    for t, tag in pieces:
        spans.append((len(text), len(text) + len(t), tag))
        text += t
    return text, spans


def valid(text: str, spans: list[tuple[int, int, str]]) -> bool:
    """Every occurrence (case-insensitive) of an identifier text lies inside an identifier span, and
    no risky occurrence overlaps an identifier: labels can then be located without ambiguity."""
    low = text.lower()
    ids = [(a, b) for a, b, tag in spans if tag in KINDS]
    for a, b, tag in spans:
        if tag not in KINDS and tag != "risky":
            continue
        piece = low[a:b]
        if not piece.strip():
            return False
        if piece != piece.strip():
            return False
        start = 0
        while (i := low.find(piece, start)) != -1:
            j = i + len(piece)
            if tag in KINDS:
                if not any(x <= i and j <= y for x, y in ids):
                    return False
            elif any(i < y and x < j for x, y in ids):
                return False
            start = i + 1
    return True


def note_record(pieces: list[Piece]) -> dict[str, object] | None:
    text, spans = spans_of(pieces)
    if not valid(text, spans):
        return None
    identifiers = [{"kind": tag, "text": text[a:b]} for a, b, tag in spans if tag in KINDS]
    risky: list[str] = []
    for a, b, tag in spans:
        if tag == "risky" and text[a:b] not in risky:
            risky.append(text[a:b])
    if not identifiers and not risky:
        return None
    return {"text": text, "identifiers": identifiers, "risky": risky}


def main() -> int:
    rng = random.Random(SEED)  # noqa: S311 - reproducible test data, not secrets
    g = Gen(rng)
    weights = {
        "name": 30,
        "phone": 11,
        "email": 11,
        "nir": 12,
        "patient_number": 12,
        "birth_date": 12,
        "address": 12,
    }
    plan: list[str | None] = []
    n_id = N_NOTES // 2
    for k, w in weights.items():
        plan.extend([k] * round(n_id * w / sum(weights.values())))
    plan.extend([None] * (N_NOTES - len(plan)))
    rng.shuffle(plan)
    records: list[dict[str, object]] = []
    for kind in plan:
        for _ in range(200):
            rec = note_record(noisy(rng, build(g, kind)))
            if rec is not None:
                records.append(rec)
                break
        else:
            raise SystemExit(f"could not build a valid note for {kind}")
    with OUT.open("w", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return summarise(records)


def summarise(records: list[dict[str, object]]) -> int:
    counts: Counter[str] = Counter()
    with_id = 0
    bad = 0
    for rec in records:
        text = rec["text"]
        ids = rec["identifiers"]
        assert isinstance(text, str) and isinstance(ids, list)
        for ident in ids:
            counts[ident["kind"]] += 1
            if ident["text"] not in text:
                bad += 1
        risky = rec["risky"]
        assert isinstance(risky, list)
        bad += sum(1 for r in risky if r not in text)
        with_id += bool(ids)
    print(f"wrote {len(records)} notes to {OUT}")
    print(f"notes with identifiers: {with_id}; risky-only notes: {len(records) - with_id}")
    for k in KINDS:
        print(f"  {k:15s} {counts[k]}")
    n_id_frags = sum(len(v) for v in ID_FRAGMENTS.values())
    print(f"templates: {len(WORK)} work fragments + {n_id_frags} identifier fragments")
    if bad:
        print(f"ERROR: {bad} labels are not substrings of their note", file=sys.stderr)
        return 1
    short = [k for k in KINDS if counts[k] < (300 if k == "name" else 80)]
    if short:
        print(f"ERROR: too few instances of {short}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
