/**
 * IAM signing certificates (X.509 per user: Upload/List/Update/DeleteSigningCertificate) and
 * server certificates (Upload/Get/List/Update/DeleteServerCertificate and their tags). Bodies are
 * checked as IAM checks them (pem.ts); records live in the IAM store's document store.
 */
import { callerOf } from "../../iam/identity.js";
import { iamScope } from "../../iam/store.js";
import { globalArn } from "../../core/ids.js";
import type { Operations, ServerCertificateMetadata, Tag, statusType } from "../../protocol/generated/types/iam.js";
import type { Provider, RequestContext } from "../../protocol/service.js";
import {
  type IamContext,
  alreadyExists,
  checkName,
  checkNewTags,
  checkPath,
  limitExceeded,
  noSuchEntity,
  page,
  validationError,
} from "./common.js";
import { pageByPath, tagOperations } from "./entities.js";
import {
  checkPrivateKey,
  newServerCertificateId,
  newSigningCertificateId,
  parseCertificate,
  parseChain,
} from "./pem.js";
import { requireUser } from "./users.js";
import { iamErrors } from "../../protocol/generated/errors/iam.js";

export interface SigningCertificateRecord {
  CertificateId: string;
  UserName: string;
  CertificateBody: string;
  /** Hex of the DER, to find duplicates. */
  der: string;
  Status: statusType;
  UploadDate: Date;
}

export interface ServerCertificateRecord {
  ServerCertificateName: string;
  ServerCertificateId: string;
  Path: string;
  Arn: string;
  CertificateBody: string;
  CertificateChain?: string;
  /** Kept so the certificate could be served; never returned. */
  PrivateKey: string;
  UploadDate: Date;
  Expiration: Date;
  Tags: Tag[];
}

/** AWS's default quotas. */
const SIGNING_PER_USER = 2;
const SERVER_PER_ACCOUNT = 20;

export const serverCertificateArn = (account: string, path: string, name: string) =>
  globalArn("iam", account, `server-certificate${path}${name}`);

export function certificateOperations(c: IamContext): Provider<Operations> {
  const signing = signingCertificates(c);
  const servers = c.iam.store.collection<ServerCertificateRecord>("iam.serverCertificate", {
    id: (r) => r.ServerCertificateName.toLowerCase(),
    arn: (r) => r.Arn,
  });
  const scope = (account: string) => iamScope(account);

  /** The user a signing-certificate call is about: the one named, else the calling user. */
  const subject = (ctx: RequestContext, name: string | undefined) => {
    if (name !== undefined) return requireUser(c, ctx.account, name);
    const caller = callerOf(ctx);
    if (caller.kind === "user" && caller.userName) return requireUser(c, ctx.account, caller.userName);
    throw validationError("Must specify userName when calling with non-User credentials");
  };
  const requireSigning = (account: string, userName: string, id: string) => {
    const r = signing.get(scope(account), id);
    if (!r || r.UserName.toLowerCase() !== userName.toLowerCase())
      throw noSuchEntity(`The Certificate with id ${id} cannot be found.`);
    return r;
  };
  const requireServer = (account: string, name: string) => {
    const r = servers.get(scope(account), name.toLowerCase());
    if (!r) throw noSuchEntity(`The Server Certificate with name ${name} cannot be found.`);
    return r;
  };
  const signingView = (r: SigningCertificateRecord) => ({
    UserName: r.UserName,
    CertificateId: r.CertificateId,
    CertificateBody: r.CertificateBody,
    Status: r.Status,
    UploadDate: r.UploadDate,
  });
  const metadata = (r: ServerCertificateRecord): ServerCertificateMetadata => ({
    Path: r.Path,
    ServerCertificateName: r.ServerCertificateName,
    ServerCertificateId: r.ServerCertificateId,
    Arn: r.Arn,
    UploadDate: r.UploadDate,
    Expiration: r.Expiration,
  });

  return {
    // ---- signing certificates ----
    UploadSigningCertificate: (input, ctx) => {
      const cert = parseCertificate(input.CertificateBody);
      return c.iam.store.transaction(() => {
        const user = subject(ctx, input.UserName);
        const mine = signing.children(scope(ctx.account), user.UserName.toLowerCase());
        const der = cert.der.toString("hex");
        if (mine.some((r) => r.der === der))
          throw iamErrors.DuplicateCertificateException("The Certificate you are uploading has already been uploaded.");
        if (mine.length >= SIGNING_PER_USER)
          throw limitExceeded(`Cannot exceed quota for SigningCertificatesPerUser: ${SIGNING_PER_USER}`);
        const r: SigningCertificateRecord = {
          CertificateId: newSigningCertificateId(),
          UserName: user.UserName,
          CertificateBody: input.CertificateBody,
          der,
          Status: "Active",
          UploadDate: c.clock.now(),
        };
        signing.put(scope(ctx.account), r);
        return { Certificate: signingView(r) };
      });
    },
    ListSigningCertificates: (input, ctx) => {
      const user = subject(ctx, input.UserName);
      const all = signing
        .children(scope(ctx.account), user.UserName.toLowerCase())
        .sort((a, b) => a.UploadDate.getTime() - b.UploadDate.getTime());
      const p = page(all.map(signingView), input.Marker, input.MaxItems);
      return { Certificates: p.items, IsTruncated: p.IsTruncated, Marker: p.Marker };
    },
    UpdateSigningCertificate: (input, ctx) =>
      c.iam.store.transaction(() => {
        const user = subject(ctx, input.UserName);
        const r = requireSigning(ctx.account, user.UserName, input.CertificateId);
        signing.put(scope(ctx.account), { ...r, Status: input.Status });
        return {};
      }),
    DeleteSigningCertificate: (input, ctx) =>
      c.iam.store.transaction(() => {
        const user = subject(ctx, input.UserName);
        const r = requireSigning(ctx.account, user.UserName, input.CertificateId);
        signing.delete(scope(ctx.account), r.CertificateId);
        return {};
      }),

    // ---- server certificates ----
    UploadServerCertificate: (input, ctx) => {
      const name = checkName(input.ServerCertificateName, "serverCertificateName");
      const path = checkPath(input.Path);
      const cert = parseCertificate(input.CertificateBody);
      if (input.CertificateChain !== undefined) parseChain(input.CertificateChain);
      checkPrivateKey(input.PrivateKey, cert);
      const tags = checkNewTags(input.Tags);
      return c.iam.store.transaction(() => {
        if (servers.get(scope(ctx.account), name.toLowerCase()))
          throw alreadyExists(`The Server Certificate with name ${name} already exists.`);
        if (servers.list(scope(ctx.account)).length >= SERVER_PER_ACCOUNT)
          throw limitExceeded(`Cannot exceed quota for ServerCertificatesPerAccount: ${SERVER_PER_ACCOUNT}`);
        const r: ServerCertificateRecord = {
          ServerCertificateName: name,
          ServerCertificateId: newServerCertificateId(),
          Path: path,
          Arn: serverCertificateArn(ctx.account, path, name),
          CertificateBody: input.CertificateBody,
          CertificateChain: input.CertificateChain,
          PrivateKey: input.PrivateKey,
          UploadDate: c.clock.now(),
          Expiration: cert.notAfter,
          Tags: tags,
        };
        servers.put(scope(ctx.account), r);
        return { ServerCertificateMetadata: metadata(r), Tags: tags.length ? tags : undefined };
      });
    },
    GetServerCertificate: (input, ctx) => {
      const r = requireServer(ctx.account, input.ServerCertificateName);
      return {
        ServerCertificate: {
          ServerCertificateMetadata: metadata(r),
          CertificateBody: r.CertificateBody,
          CertificateChain: r.CertificateChain,
          Tags: r.Tags.length ? r.Tags : undefined,
        },
      };
    },
    ListServerCertificates: (input, ctx) => {
      const p = pageByPath(servers.list(scope(ctx.account)), (r) => r.ServerCertificateName, input);
      return { ServerCertificateMetadataList: p.items.map(metadata), IsTruncated: p.IsTruncated, Marker: p.Marker };
    },
    UpdateServerCertificate: (input, ctx) =>
      c.iam.store.transaction(() => {
        const r = requireServer(ctx.account, input.ServerCertificateName);
        const name =
          input.NewServerCertificateName === undefined
            ? r.ServerCertificateName
            : checkName(input.NewServerCertificateName, "newServerCertificateName");
        const path = input.NewPath === undefined ? r.Path : checkPath(input.NewPath);
        if (name.toLowerCase() !== r.ServerCertificateName.toLowerCase()) {
          if (servers.get(scope(ctx.account), name.toLowerCase()))
            throw alreadyExists(`The Server Certificate with name ${name} already exists.`);
          servers.delete(scope(ctx.account), r.ServerCertificateName.toLowerCase());
        }
        servers.put(scope(ctx.account), {
          ...r,
          ServerCertificateName: name,
          Path: path,
          Arn: serverCertificateArn(ctx.account, path, name),
        });
        return {};
      }),
    DeleteServerCertificate: (input, ctx) =>
      c.iam.store.transaction(() => {
        const r = requireServer(ctx.account, input.ServerCertificateName);
        servers.delete(scope(ctx.account), r.ServerCertificateName.toLowerCase());
        return {};
      }),
    ...tagOperations<ServerCertificateRecord>({
      kind: "ServerCertificate",
      member: "ServerCertificateName",
      find: requireServer,
      save: (account, r) => servers.put(scope(account), r),
    }),
  };
}

/** Signing certificates by id, children of their user (lower-cased name). */
const signingCertificates = (c: IamContext) =>
  c.iam.store.collection<SigningCertificateRecord>("iam.signingCertificate", {
    id: (r) => r.CertificateId,
    parent: (r) => r.UserName.toLowerCase(),
  });

/** Whether a user still has signing certificates (DeleteUser refuses then, as IAM does). */
export const hasSigningCertificates = (c: IamContext, account: string, userName: string): boolean =>
  signingCertificates(c).children(iamScope(account), userName.toLowerCase()).length > 0;
