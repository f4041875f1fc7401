// Run once by the mongo image on its first start (/docker-entrypoint-initdb.d/), as the root user it just made
// from MONGO_INITDB_ROOT_PASSWORD_FILE: the content service's own user, readWrite and dbAdmin (its validators
// and indexes) on each shard's database and nothing else. The password comes from the secret file, never from
// this script or the compose file.
const fs = require("fs");
const password = fs.readFileSync("/run/secrets/mongo-content-password", "utf8").trim();
const databases = ["elearning_na", "elearning_eu", "elearning_apac"];
const roles = databases.flatMap((name) => [{role: "readWrite", db: name}, {role: "dbAdmin", db: name}]);
const admin = db.getSiblingDB("admin");
if (admin.getUser("elearn_content") === null) {
  admin.createUser({user: "elearn_content", pwd: password, roles: roles});
} else {
  admin.updateUser("elearn_content", {pwd: password, roles: roles});
}
