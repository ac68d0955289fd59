/* Prints what the installed <linux/vfio.h> says about the uAPI migcompat marshals by hand:
 * ioctl numbers, struct sizes, field offsets and flag values, one "kind name value" per line.
 * A name the header lacks prints "missing name" so the test can fall back to the
 * tables of docs/reference.md#ioctl-numbers-and-device-opening. */
#include <stdio.h>
#include <stddef.h>
#include <linux/vfio.h>
#include <linux/version.h>

#define IOCTL(n) printf("ioctl %s %lu\n", #n, (unsigned long)(n))
#define CONST(n) printf("const %s %lu\n", #n, (unsigned long)(n))
#define SIZE(s) printf("size %s %zu\n", #s, sizeof(struct s))
#define OFF(s, f) printf("off %s.%s %zu %zu\n", #s, #f, offsetof(struct s, f), sizeof(((struct s *)0)->f))
#define OFFX(s, f) printf("off %s.%s %zu 0\n", #s, #f, offsetof(struct s, f)) /* flexible array */
#define MISSING(n) printf("missing %s\n", #n)

int main(void)
{
	printf("header LINUX_VERSION_CODE %d\n",
#ifdef LINUX_VERSION_CODE
	       LINUX_VERSION_CODE
#else
	       0
#endif
	);
	IOCTL(VFIO_GET_API_VERSION); IOCTL(VFIO_CHECK_EXTENSION); IOCTL(VFIO_SET_IOMMU);
	IOCTL(VFIO_GROUP_GET_STATUS); IOCTL(VFIO_GROUP_SET_CONTAINER); IOCTL(VFIO_GROUP_UNSET_CONTAINER);
	IOCTL(VFIO_GROUP_GET_DEVICE_FD); IOCTL(VFIO_DEVICE_GET_INFO); IOCTL(VFIO_DEVICE_RESET);
	IOCTL(VFIO_DEVICE_GET_REGION_INFO);
	IOCTL(VFIO_DEVICE_FEATURE);
#ifdef VFIO_DEVICE_BIND_IOMMUFD
	IOCTL(VFIO_DEVICE_BIND_IOMMUFD); IOCTL(VFIO_DEVICE_ATTACH_IOMMUFD_PT); IOCTL(VFIO_DEVICE_DETACH_IOMMUFD_PT);
	SIZE(vfio_device_bind_iommufd); OFF(vfio_device_bind_iommufd, argsz); OFF(vfio_device_bind_iommufd, flags);
	OFF(vfio_device_bind_iommufd, iommufd); OFF(vfio_device_bind_iommufd, out_devid);
	SIZE(vfio_device_attach_iommufd_pt); OFF(vfio_device_attach_iommufd_pt, pt_id);
#else
	MISSING(VFIO_DEVICE_BIND_IOMMUFD); MISSING(VFIO_DEVICE_ATTACH_IOMMUFD_PT); MISSING(VFIO_DEVICE_DETACH_IOMMUFD_PT);
	MISSING(vfio_device_bind_iommufd); MISSING(vfio_device_attach_iommufd_pt);
#endif
#ifdef VFIO_MIG_GET_PRECOPY_INFO
	IOCTL(VFIO_MIG_GET_PRECOPY_INFO);
	SIZE(vfio_precopy_info); OFF(vfio_precopy_info, argsz); OFF(vfio_precopy_info, flags);
	OFF(vfio_precopy_info, initial_bytes); OFF(vfio_precopy_info, dirty_bytes);
#else
	MISSING(VFIO_MIG_GET_PRECOPY_INFO); MISSING(vfio_precopy_info);
#endif
#ifdef VFIO_DEVICE_FEATURE_MIG_DATA_SIZE
	CONST(VFIO_DEVICE_FEATURE_MIG_DATA_SIZE);
	SIZE(vfio_device_feature_mig_data_size); OFF(vfio_device_feature_mig_data_size, stop_copy_length);
#else
	MISSING(VFIO_DEVICE_FEATURE_MIG_DATA_SIZE); MISSING(vfio_device_feature_mig_data_size);
#endif
#ifdef VFIO_MIGRATION_PRE_COPY
	CONST(VFIO_MIGRATION_PRE_COPY);
#else
	MISSING(VFIO_MIGRATION_PRE_COPY);
#endif
	CONST(VFIO_API_VERSION); CONST(VFIO_TYPE1_IOMMU); CONST(VFIO_TYPE1v2_IOMMU);
	CONST(VFIO_GROUP_FLAGS_VIABLE); CONST(VFIO_GROUP_FLAGS_CONTAINER_SET);
	CONST(VFIO_DEVICE_FLAGS_RESET); CONST(VFIO_DEVICE_FLAGS_PCI);
	CONST(VFIO_DEVICE_FEATURE_MASK); CONST(VFIO_DEVICE_FEATURE_GET); CONST(VFIO_DEVICE_FEATURE_SET);
	CONST(VFIO_DEVICE_FEATURE_PROBE); CONST(VFIO_DEVICE_FEATURE_PCI_VF_TOKEN);
	CONST(VFIO_DEVICE_FEATURE_MIGRATION); CONST(VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE);
	CONST(VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY); CONST(VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP);
	CONST(VFIO_DEVICE_FEATURE_LOW_POWER_EXIT); CONST(VFIO_DEVICE_FEATURE_DMA_LOGGING_START);
	CONST(VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP); CONST(VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT);
	CONST(VFIO_MIGRATION_STOP_COPY); CONST(VFIO_MIGRATION_P2P);
	CONST(VFIO_DEVICE_STATE_ERROR); CONST(VFIO_DEVICE_STATE_STOP); CONST(VFIO_DEVICE_STATE_RUNNING);
	CONST(VFIO_DEVICE_STATE_STOP_COPY); CONST(VFIO_DEVICE_STATE_RESUMING); CONST(VFIO_DEVICE_STATE_RUNNING_P2P);
	SIZE(vfio_group_status); OFF(vfio_group_status, argsz); OFF(vfio_group_status, flags);
	SIZE(vfio_device_info); OFF(vfio_device_info, argsz); OFF(vfio_device_info, flags);
	OFF(vfio_device_info, num_regions); OFF(vfio_device_info, num_irqs); OFF(vfio_device_info, cap_offset);
	SIZE(vfio_region_info); OFF(vfio_region_info, argsz); OFF(vfio_region_info, flags);
	OFF(vfio_region_info, index); OFF(vfio_region_info, cap_offset); OFF(vfio_region_info, size);
	OFF(vfio_region_info, offset);
	CONST(VFIO_REGION_INFO_FLAG_READ); CONST(VFIO_REGION_INFO_FLAG_WRITE); CONST(VFIO_REGION_INFO_FLAG_MMAP);
	CONST(VFIO_REGION_INFO_FLAG_CAPS); CONST(VFIO_PCI_BAR0_REGION_INDEX); CONST(VFIO_PCI_CONFIG_REGION_INDEX);
	SIZE(vfio_device_feature); OFF(vfio_device_feature, argsz); OFF(vfio_device_feature, flags);
	OFFX(vfio_device_feature, data);
	SIZE(vfio_device_feature_migration); OFF(vfio_device_feature_migration, flags);
	SIZE(vfio_device_feature_mig_state); OFF(vfio_device_feature_mig_state, device_state);
	OFF(vfio_device_feature_mig_state, data_fd);
	return 0;
}
