// Run by the mongo-init Job against mongo-0, as root: initiate rs0 with that member alone (the others hold
// their own bootstrap data and would refuse an initiate), add the others (their initial sync replaces it),
// then create or update the application user with readWrite on each shard's database.
const env = process.env;
const members = env.MEMBERS.split(",");
const databases = env.DATABASES.split(",");
// The credentials come from the environment, never the command line (visible in the process list).
const credentials = encodeURIComponent(env.ROOT_USERNAME) + ":" + encodeURIComponent(env.ROOT_PASSWORD);
db = connect("mongodb://" + credentials + "@" + members[0] + "/admin?authSource=admin&directConnection=true");

function initiated() {
  try {
    rs.status();
    return true;
  } catch (e) {
    if (e.codeName === "NotYetInitialized") return false;
    throw e;
  }
}

if (!initiated()) {
  rs.initiate({_id: "rs0", members: [{_id: 0, host: members[0]}]});
}
for (let i = 0; i < 60 && !db.hello().isWritablePrimary; i++) sleep(1000);
if (!db.hello().isWritablePrimary) throw new Error("mongo-0 did not become primary; the Job retries");

const known = rs.conf().members.map((m) => m.host);
members.filter((host) => !known.includes(host)).forEach((host) => rs.add({host: host}));

const admin = db.getSiblingDB("admin");
const roles = databases.map((name) => ({role: "readWrite", db: name}));
if (admin.getUser(env.APP_USERNAME) === null) {
  admin.createUser({user: env.APP_USERNAME, pwd: env.APP_PASSWORD, roles: roles});
} else {
  admin.updateUser(env.APP_USERNAME, {pwd: env.APP_PASSWORD, roles: roles});
}
print("rs0: " + rs.conf().members.length + " members; user " + env.APP_USERNAME + " on " + databases);
