// Move payments received by an (:ExternalAccount) onto the (:Account) of the same id, now loaded.
UNWIND $account_ids AS account_id
MATCH (x:ExternalAccount {account_id: account_id})<-[p:PAID]-(payer:Account)
MATCH (a:Account {account_id: account_id})
CREATE (payer)-[q:PAID]->(a)
SET q = properties(p)
DELETE p
