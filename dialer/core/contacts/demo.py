"""Made-up contacts for the demo profile and the benchmarks: plausible, varied, valid numbers.

Every number is valid for ``phonenumbers`` by construction (ranges checked by the tests), so
generating 100,000 contacts costs no parsing: Indian mobiles are ``+91 9`` followed by any nine
digits; UK mobiles use ``+44 7`` ranges in service; US numbers use the ``555-01xx`` block
reserved for fiction, in real area codes.
"""

from __future__ import annotations

import random

from dialer.core.contacts.model import Contact, ContactNumber, normalise

_INDIAN_FIRST = [
    "Aarav",
    "Aditi",
    "Aditya",
    "Akash",
    "Amit",
    "Ananya",
    "Anil",
    "Anjali",
    "Arjun",
    "Asha",
    "Ayesha",
    "Deepa",
    "Deepak",
    "Divya",
    "Farhan",
    "Fatima",
    "Gaurav",
    "Geeta",
    "Gurpreet",
    "Harish",
    "Harpreet",
    "Imran",
    "Ishaan",
    "Kavya",
    "Karthik",
    "Kiran",
    "Lakshmi",
    "Mahesh",
    "Manoj",
    "Meera",
    "Mohan",
    "Nandini",
    "Neha",
    "Nikhil",
    "Pooja",
    "Prakash",
    "Priya",
    "Rahul",
    "Rajesh",
    "Ramesh",
    "Ravi",
    "Rohan",
    "Saanvi",
    "Sandeep",
    "Sanjay",
    "Shalini",
    "Shreya",
    "Siddharth",
    "Sneha",
    "Sunita",
    "Suresh",
    "Swati",
    "Tanvi",
    "Varun",
    "Venkatesh",
    "Vidya",
    "Vikram",
    "Vivaan",
    "Yamini",
    "Zoya",
    "Joseph",
    "Mary",
    "Thomas",
    "Abdul",
    "Lalitha",
    "Bhavana",
    "Chetan",
    "Dinesh",
    "Esha",
    "Gopal",
    "Hema",
    "Jaya",
    "Kamala",
    "Leela",
    "Madhu",
    "Naveen",
    "Omkar",
    "Pallavi",
]
_INDIAN_LAST = [
    "Sharma",
    "Verma",
    "Iyer",
    "Iyengar",
    "Nair",
    "Reddy",
    "Rao",
    "Patel",
    "Shah",
    "Mehta",
    "Gupta",
    "Singh",
    "Kaur",
    "Khan",
    "Das",
    "Banerjee",
    "Chatterjee",
    "Mukherjee",
    "Pillai",
    "Menon",
    "Kulkarni",
    "Deshpande",
    "Joshi",
    "Bhat",
    "Hegde",
    "Naidu",
    "Gowda",
    "D'Souza",
    "Fernandes",
    "Qureshi",
    "Siddiqui",
    "Ansari",
    "Agarwal",
    "Malhotra",
    "Kapoor",
    "Chopra",
    "Bose",
    "Sen",
    "Ghosh",
    "Dutta",
    "Saxena",
    "Trivedi",
    "Pandey",
    "Mishra",
    "Tiwari",
    "Yadav",
    "Chauhan",
    "Rathore",
    "Krishnan",
    "Subramanian",
    "Srinivasan",
    "Venkataraman",
    "Shetty",
    "Kamath",
    "Pai",
    "Prabhu",
    "Goswami",
    "Bhattacharya",
]
_INTERNATIONAL = (
    ("Émile", "Dubois"),
    ("Chloé", "Lefèvre"),
    ("François", "Girard"),
    ("José", "García"),
    ("Lucía", "Fernández"),
    ("Zoë", "Müller"),
    ("Jürgen", "Schäfer"),
    ("Søren", "Nielsen"),
    ("Björn", "Åberg"),
    ("Łukasz", "Nowak"),
    ("Siobhán", "O'Brien"),
    ("Seán", "Ó Briain"),
    ("Nguyễn", "Thị Lan"),
    ("Wei", "Zhang"),
    ("Kenji", "Tanaka"),
    ("Olamide", "Adeyemi"),
    ("Amara", "Okafor"),
    ("Fatuma", "Wanjiru"),
    ("Liam", "Walsh"),
    ("Olivia", "Smith"),
    ("Noah", "Johnson"),
    ("Emma", "Williams"),
    ("James", "Brown"),
    ("Sophie", "Taylor"),
    ("Oliver", "Davies"),
    ("Grace", "Evans"),
    ("Mateus", "Araújo"),
    ("Ana", "Conceição"),
    ("Yusuf", "Yılmaz"),
    ("Elif", "Şahin"),
    ("Dmitri", "Ivanov"),
    ("Aiko", "Suzuki"),
    ("Hannah", "Cohen"),
    ("Omar", "Haddad"),
    ("Leïla", "Benali"),
    ("Ines", "Rocha"),
)
_COMPANIES = (
    "Sahyadri Logistics",
    "Kaveri Textiles",
    "Nilgiri Foods",
    "Deccan Motors",
    "Blue Lotus Travels",
    "Ganga Pharma",
    "Konark Steel",
    "Malabar Spices Co.",
    "Indus Fintech",
    "Aravalli Builders",
    "Coromandel Shipping",
    "Brahmaputra Tea Estates",
    "Vindhya Solar",
    "Thar Ceramics",
    "Godavari Agro",
    "Narmada Insurance",
    "Himalaya Outfitters",
    "Sundarban Seafoods",
    "Mysuru Silks",
    "Hampi Heritage Hotels",
    "Acme Ltd",
    "Northwind Traders",
    "Café Lumière",
    "Müller & Söhne GmbH",
    "Harbour Lights Ltd",
    "Pinewood Analytics",
    "Riverside Clinic",
    "Quayside Properties",
    "Redwood Health",
    "Silver Fern Exports",
)
_DOMAINS = ("example.com", "example.in", "example.org", "mail.example.net")
_US_AREAS = ("201", "212", "305", "312", "415", "512", "617", "646", "702", "808")
_UK_MOBILE = ("7400", "7500", "7800", "7956", "7966", "7984")
_SECOND_LABELS = ("work", "home", "work", "office", "whatsapp", "home")
_NOTES = (
    "",
    "",
    "",
    "",
    "Prefers calls after 4 pm",
    "Hindi or English",
    "Renewal due next month",
    "Call back about the invoice",
    "Speaks Tamil and English",
    "VIP customer",
)


def _number(rng: random.Random, country: str) -> str:
    if country == "GB":
        return f"+44{rng.choice(_UK_MOBILE)}{rng.randrange(1_000_000):06d}"
    if country == "US":
        return f"+1{rng.choice(_US_AREAS)}55501{rng.randrange(100):02d}"
    return f"+919{rng.randrange(1_000_000_000):09d}"


def demo_contacts(count: int, *, seed: int = 7) -> list[Contact]:
    """``count`` made-up contacts, the same for the same ``seed``.

    Mostly Indian names with Indian mobiles (``+91 9xxxx xxxxx``), some international names
    with UK or US numbers; 1-3 numbers each (first labelled ``mobile``), about two in three
    with a company, one in twenty-five a favourite.
    """
    rng = random.Random(seed)  # noqa: S311 - sample data, not secrets
    contacts = []
    for _ in range(count):
        if rng.random() < 0.8:
            first, last = rng.choice(_INDIAN_FIRST), rng.choice(_INDIAN_LAST)
            country = "IN" if rng.random() < 0.95 else rng.choice(("GB", "US"))
        else:
            first, last = rng.choice(_INTERNATIONAL)
            country = rng.choice(("GB", "US", "US", "IN"))
        name = f"{first} {last}"
        company = rng.choice(_COMPANIES) if rng.random() < 0.65 else ""
        numbers = [ContactNumber(_number(rng, country), "mobile")]
        for _extra in range(rng.choice((0, 0, 0, 1, 1, 2))):
            numbers.append(ContactNumber(_number(rng, country), rng.choice(_SECOND_LABELS)))
        email = ""
        if rng.random() < 0.6:
            local = normalise(f"{first}.{last}").replace("'", "").replace(" ", "")
            email = f"{local}{rng.randrange(100)}@{rng.choice(_DOMAINS)}"
        contacts.append(
            Contact(
                name=name,
                numbers=tuple(numbers),
                company=company,
                email=email,
                notes=rng.choice(_NOTES),
                favourite=rng.random() < 0.04,
            )
        )
    return contacts
