import { errorFactory } from "../../core/errors.js";

/**
 * EC2's error codes. The EC2 model declares no error shapes (its codes are documented, not
 * modelled), so they are kept here by hand, all HTTP 400 unless noted.
 */
export const ec2Errors = {
  InvalidParameterValue: errorFactory("InvalidParameterValue"),
  InvalidParameterCombination: errorFactory("InvalidParameterCombination"),
  MissingParameter: errorFactory("MissingParameter"),
  InvalidID: errorFactory("InvalidID"),
  DependencyViolation: errorFactory("DependencyViolation"),
  DryRunOperation: errorFactory("DryRunOperation", 412),
  TagLimitExceeded: errorFactory("TagLimitExceeded"),
  InvalidVpcIdNotFound: errorFactory("InvalidVpcID.NotFound"),
  InvalidVpcRange: errorFactory("InvalidVpc.Range"),
  InvalidSubnetIdNotFound: errorFactory("InvalidSubnetID.NotFound"),
  InvalidSubnetRange: errorFactory("InvalidSubnet.Range"),
  InvalidSubnetConflict: errorFactory("InvalidSubnet.Conflict"),
  InvalidGroupNotFound: errorFactory("InvalidGroup.NotFound"),
  InvalidGroupDuplicate: errorFactory("InvalidGroup.Duplicate"),
  InvalidGroupReserved: errorFactory("InvalidGroup.Reserved"),
  InvalidPermissionDuplicate: errorFactory("InvalidPermission.Duplicate"),
  InvalidPermissionNotFound: errorFactory("InvalidPermission.NotFound"),
  InvalidPermissionMalformed: errorFactory("InvalidPermission.Malformed"),
  InvalidSecurityGroupRuleIdNotFound: errorFactory("InvalidSecurityGroupRuleId.NotFound"),
  CannotDelete: errorFactory("CannotDelete"),
  VPCIdNotSpecified: errorFactory("VPCIdNotSpecified"),
  DefaultVpcAlreadyExists: errorFactory("DefaultVpcAlreadyExists"),
  InvalidNextToken: errorFactory("InvalidNextToken"),
  InvalidZoneNotFound: errorFactory("InvalidZone.NotFound"),
  InvalidRegionNotFound: errorFactory("InvalidRegion.NotFound"),
  InvalidLaunchTemplateNameAlreadyExists: errorFactory("InvalidLaunchTemplateName.AlreadyExistsException"),
  InvalidLaunchTemplateNameMalformed: errorFactory("InvalidLaunchTemplateName.MalformedException"),
  InvalidLaunchTemplateNameNotFound: errorFactory("InvalidLaunchTemplateName.NotFoundException"),
  InvalidLaunchTemplateIdNotFound: errorFactory("InvalidLaunchTemplateId.NotFound"),
  InvalidLaunchTemplateIdVersionNotFound: errorFactory("InvalidLaunchTemplateId.VersionNotFound"),
} as const;
